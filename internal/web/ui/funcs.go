package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
)

func (u *UI) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": u.assets.url,
		"ago":   func(t time.Time) string { return ago(u.deps.Now(), t) },
		"stamp": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"iso":           func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"seg":           url.PathEscape,
		"tenantURL":     tenantURL,
		"words":         func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"lines":         nonEmptyLines,
		"reason":        reasonText,
		"inc":           func(i int) int { return i + 1 },
		"providerTitle": u.providerTitle,
		"json": func(v any) string {
			b, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return ""
			}
			return string(b)
		},
	}
}

// ago says how long before now t was, in the largest whole unit.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "less than a minute ago"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// nonEmptyLines splits s into its lines, dropping blank ones.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
