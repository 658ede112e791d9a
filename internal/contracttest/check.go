package contracttest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// check compares what a step did with what its expect says.
func check(e Expect, res stepResult) []string {
	var out []string
	for _, x := range res.exchanges {
		if x.Err != "" {
			out = append(out, fmt.Sprintf("%s %s to %s: %s", x.Method, x.Path, x.Provider, x.Err))
		}
	}
	if e.Outcome != "" && e.Outcome != res.outcome {
		out = append(out, fmt.Sprintf("outcome: want %s, got %s%s", e.Outcome, res.outcome, why(res)))
	}
	if e.Status != 0 && e.Status != res.status {
		out = append(out, fmt.Sprintf("webhook answer: want %d, got %d", e.Status, res.status))
	}
	if e.RetryAfter != 0 && e.RetryAfter != res.retryAfter {
		out = append(out, fmt.Sprintf("retry after: want %s, got %s", e.RetryAfter, res.retryAfter))
	}
	if e.RecordError != "" && !slices.Contains(res.recordError, e.RecordError) {
		got := "none"
		if len(res.recordError) > 0 {
			got = strings.Join(res.recordError, ", ")
		}
		out = append(out, fmt.Sprintf("record error: want one of class %s, got %s", e.RecordError, got))
	}
	if e.Requests != nil {
		if d := diffRequests(*e.Requests, res.exchanges); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// why adds the record errors filed to an unexpected outcome: they say what
// went wrong.
func why(res stepResult) string {
	if res.outcome == "rejected" {
		return fmt.Sprintf(" (the webhook was answered %d %s)", res.status, res.answer)
	}
	if len(res.recordError) == 0 {
		return ""
	}
	return " (record error " + strings.Join(res.recordError, ", ") + ")"
}

// diffRequests returns "" when got are exactly the wanted requests, in
// order, else the reason and both lists as a diff.
func diffRequests(want []RequestSpec, got []Exchange) string {
	reason := ""
	for i := 0; i < max(len(want), len(got)) && reason == ""; i++ {
		switch {
		case i >= len(got):
			reason = fmt.Sprintf("request %d was not sent", i+1)
		case i >= len(want):
			reason = fmt.Sprintf("request %d was not expected", i+1)
		default:
			if r := matchRequest(want[i], got[i]); r != "" {
				reason = fmt.Sprintf("request %d: %s", i+1, r)
			}
		}
	}
	if reason == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "partner requests differ: %s\n", reason)
	for _, w := range want {
		line := w.Method + " " + w.Path
		if w.Body != nil {
			j, _ := json.Marshal(w.Body)
			line += " " + string(j) + " (at least)"
		}
		fmt.Fprintf(&b, "- %s\n", line)
	}
	for _, g := range got {
		fmt.Fprintf(&b, "+ %s → %d\n", g, g.Status)
	}
	return strings.TrimRight(b.String(), "\n")
}

func matchRequest(w RequestSpec, g Exchange) string {
	if w.Provider != "" && w.Provider != g.Provider {
		return fmt.Sprintf("want a request to %s, got one to %s", w.Provider, g.Provider)
	}
	if w.Method != g.Method {
		return fmt.Sprintf("method: want %s, got %s", w.Method, g.Method)
	}
	if !samePath(w.Path, g.Path) {
		return fmt.Sprintf("path: want %s, got %s", w.Path, g.Path)
	}
	for k, v := range w.Headers {
		if got := strings.Join(g.Header.Values(k), ", "); got != v {
			return fmt.Sprintf("header %s: want %q, got %q", k, v, got)
		}
	}
	if w.Body != nil {
		if d := subset(w.Body, g.Body, "body"); d != "" {
			return d
		}
	}
	return ""
}

// samePath compares a wanted path with a sent one: * matches one segment,
// the query is compared (in any order) only when the wanted path has one.
func samePath(want, got string) bool {
	wp, wq, hasQuery := strings.Cut(want, "?")
	gp, gq, _ := strings.Cut(got, "?")
	ws, gs := strings.Split(wp, "/"), strings.Split(gp, "/")
	if len(ws) != len(gs) {
		return false
	}
	for i := range ws {
		if ws[i] != "*" && ws[i] != gs[i] {
			if u, err := url.PathUnescape(gs[i]); err != nil || u != ws[i] {
				return false
			}
		}
	}
	if !hasQuery {
		return true
	}
	a, err1 := url.ParseQuery(wq)
	b, err2 := url.ParseQuery(gq)
	return err1 == nil && err2 == nil && a.Encode() == b.Encode()
}

// subset reports the first place where got lacks what want says: maps may
// hold more keys, lists must have the same length, scalars must be equal.
func subset(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %s", path, show(got))
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				return fmt.Sprintf("%s.%s: not sent (want %s)", path, k, show(w[k]))
			}
			if d := subset(w[k], gv, path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got))
		}
		for i := range w {
			if d := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if show(want) != show(got) {
		return fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got))
	}
	return ""
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func indent(s, prefix string) string { return strings.ReplaceAll(s, "\n", "\n"+prefix) }
