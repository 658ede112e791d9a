package connector

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/accordhq/accord/internal/spec"
)

// List reads one page of an object's list, in the manifest's pagination
// style. Page.Next is the cursor for the following page, empty on the last
// one. Without a pagination section, the list is one page.
func (c *Connector) List(ctx context.Context, lc ListCall) (Page, error) {
	obj, ep, err := c.endpoint(lc.Object, opList)
	if err != nil {
		return Page{}, err
	}
	name := lc.Object + " " + opList
	pg := c.provider.Pagination
	var pgr pager
	if pg != nil {
		pgr = pagers[pg.Style]
		if pgr == nil {
			return Page{}, fmt.Errorf("connector: %s: pagination style %q: %w", name, pg.Style, ErrUnsupported)
		}
	}
	limit := 0
	if pg != nil && pg.LimitParam != "" {
		limit = lc.Limit
		if limit <= 0 {
			limit = pg.Limit
		}
	}

	var u *url.URL
	if pg != nil && pg.Style == spec.PageLink && lc.Cursor != "" {
		// The cursor is the partner's own next link, parameters and all.
		if u, err = c.sameOrigin(c.base, lc.Cursor, lc.Auth); err != nil {
			return Page{}, fmt.Errorf("connector: %s: %w", name, err)
		}
	} else {
		path, err := expandPath(ep.Path, "", "", copyDoc(lc.Params))
		if err != nil {
			return Page{}, fmt.Errorf("connector: %s: %w", name, err)
		}
		extra := url.Values{}
		for k, vs := range lc.Query {
			extra[k] = append([]string(nil), vs...)
		}
		if pg != nil {
			if limit > 0 {
				extra.Set(pg.LimitParam, strconv.Itoa(limit))
			}
			if err := pgr.params(pg, lc.Cursor, extra); err != nil {
				return Page{}, fmt.Errorf("connector: %s: %w", name, err)
			}
		}
		if u, err = c.url(name, path, extra); err != nil {
			return Page{}, err
		}
	}

	resp, err := c.do(ctx, request{op: name, opKind: opList, ep: ep, url: u, auth: lc.Auth})
	if err != nil {
		return Page{}, err
	}
	items, err := itemsAt(resp.doc, ep.Items)
	if err != nil {
		return Page{}, fmt.Errorf("connector: %s: %w", name, err)
	}
	raw := items
	if ep.Item != "" {
		items = itemObjects(items, ep, obj)
	}
	page := Page{Items: items, Status: resp.status, Deprecation: resp.deprecation}
	if pg != nil {
		st := pageState{pg: pg, cursor: lc.Cursor, limit: limit, count: len(raw), resp: resp, url: u}
		if len(items) > 0 {
			if v, ok := items[len(items)-1][obj.IDField()]; ok && v != nil {
				st.lastID = scalarString(v)
			}
		}
		next, err := pgr.next(st)
		if err != nil {
			return Page{}, fmt.Errorf("connector: %s: %w", name, err)
		}
		if next != "" && next == lc.Cursor {
			return Page{}, fmt.Errorf("connector: %s: the partner returned the same cursor again: %w", name, ErrBadResponse)
		}
		if next != "" && pg.Style == spec.PageLink {
			if _, err := c.sameOrigin(u, next, lc.Auth); err != nil {
				return Page{}, fmt.Errorf("connector: %s: %w", name, err)
			}
		}
		page.Next = next
	}
	return page, nil
}

// itemObjects unwraps each list entry's object at the endpoint's item path
// (HubSpot's {"id":…, "properties":{…}}), keeping the entry's id (at
// id_path, or its id field) when the object itself lacks it.
func itemObjects(entries []map[string]any, ep *spec.Endpoint, obj *spec.Object) []map[string]any {
	out := make([]map[string]any, 0, len(entries))
	for _, it := range entries {
		inner, _ := lookupMap(it, ep.Item)
		o := make(map[string]any, len(inner)+1)
		for k, v := range inner {
			o[k] = v
		}
		if _, ok := o[obj.IDField()]; !ok {
			idPath := ep.IDPath
			if idPath == "" {
				idPath = obj.IDField()
			}
			if v, ok := lookup(it, idPath); ok {
				o[obj.IDField()] = v
			}
		}
		out = append(out, o)
	}
	return out
}

func lookupMap(doc map[string]any, path string) (map[string]any, bool) {
	v, ok := lookup(doc, path)
	if !ok {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// sameOrigin resolves link against ref and refuses another scheme or host
// than the base URL's: the next request carries our credentials.
func (c *Connector) sameOrigin(ref *url.URL, link string, auth Authorizer) (*url.URL, error) {
	l, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("next link: %v: %w", err, ErrBadResponse)
	}
	u := ref.ResolveReference(l)
	host, err := c.resolveHost(auth)
	if err != nil {
		return nil, err
	}
	// A relative link keeps the base's host (a placeholder for a per-tenant
	// host, filled when the request is sent); an absolute one must name the
	// connection's own host.
	sameHost := strings.EqualFold(u.Host, c.base.Host) || strings.EqualFold(u.Host, host)
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !sameHost {
		return nil, fmt.Errorf("next link to %s://%s: %w", u.Scheme, u.Host, ErrForeignLink)
	}
	return u, nil
}

// itemsAt reads the list at path ("." for a body that is the list
// itself); a missing or null list is empty.
func itemsAt(doc any, path string) ([]map[string]any, error) {
	if doc == nil {
		return nil, nil
	}
	if path == "." {
		path = ""
	}
	v, ok := lookup(doc, path)
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("items %q is %T, not a list: %w", path, v, ErrBadResponse)
	}
	out := make([]map[string]any, 0, len(arr))
	for i, it := range arr {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("items %q[%d] is %T, not an object: %w", path, i, it, ErrBadResponse)
		}
		out = append(out, m)
	}
	return out, nil
}

// pageState is what a pager sees of the page just read.
type pageState struct {
	pg     *spec.Pagination
	cursor string // the cursor this page was asked with
	limit  int    // the page size asked for; 0 when not sent
	count  int    // items on this page
	resp   *response
	url    *url.URL // the URL this page was read from
	lastID string   // the id of the page's last item
}

// pager is one pagination style.
type pager interface {
	// params sets the request parameters asking for the page at cursor
	// (empty: the first page).
	params(pg *spec.Pagination, cursor string, q url.Values) error
	// next returns the cursor of the page after this one, empty when this
	// is the last.
	next(s pageState) (string, error)
}

var pagers = map[string]pager{
	spec.PageCursor:  cursorPager{},
	spec.PagePage:    numberPager{first: 1, step: func(pageState) int { return 1 }},
	spec.PageOffset:  numberPager{first: 0, step: func(s pageState) int { return s.count }},
	spec.PageLink:    linkPager{},
	spec.PageAfterID: afterIDPager{},
}

// afterIDPager asks for the items after the previous page's last id
// (Stripe's starting_after) while the body's has_more is true.
type afterIDPager struct{}

func (afterIDPager) params(pg *spec.Pagination, cursor string, q url.Values) error {
	if cursor != "" {
		q.Set(pg.Param, cursor)
	}
	return nil
}

func (afterIDPager) next(s pageState) (string, error) {
	v, _ := lookup(s.resp.doc, s.pg.HasMore)
	if more, _ := v.(bool); !more {
		return "", nil
	}
	if s.lastID == "" {
		return "", fmt.Errorf("has_more is true but the page's last item has no id: %w", ErrBadResponse)
	}
	return s.lastID, nil
}

// cursorPager sends the partner's opaque cursor back; the next one is at
// pagination.next in the body.
type cursorPager struct{}

func (cursorPager) params(pg *spec.Pagination, cursor string, q url.Values) error {
	if cursor != "" {
		q.Set(pg.Param, cursor)
	}
	return nil
}

func (cursorPager) next(s pageState) (string, error) {
	v, ok := lookup(s.resp.doc, s.pg.Next)
	if !ok || v == nil || v == false {
		return "", nil
	}
	return scalarString(v), nil
}

// numberPager counts pages (page style, from 1) or items (offset style,
// from 0). A short page is the last; without a page size, an empty one is.
type numberPager struct {
	first int
	step  func(pageState) int
}

func (p numberPager) params(pg *spec.Pagination, cursor string, q url.Values) error {
	if cursor == "" {
		return nil
	}
	if _, err := strconv.Atoi(cursor); err != nil {
		return fmt.Errorf("%s cursor %q is not a number", pg.Style, cursor)
	}
	q.Set(pg.Param, cursor)
	return nil
}

func (p numberPager) next(s pageState) (string, error) {
	if s.count == 0 || (s.limit > 0 && s.count < s.limit) {
		return "", nil
	}
	cur := p.first
	if s.cursor != "" {
		cur, _ = strconv.Atoi(s.cursor)
	}
	return strconv.Itoa(cur + p.step(s)), nil
}

// linkPager follows the partner's next link: the RFC 8288 Link header's
// rel="next", or a URL at pagination.next in the body when the manifest
// names one.
type linkPager struct{}

func (linkPager) params(*spec.Pagination, string, url.Values) error { return nil }

func (linkPager) next(s pageState) (string, error) {
	var next string
	if s.pg.Next != "" {
		if v, ok := lookup(s.resp.doc, s.pg.Next); ok && v != nil {
			next = scalarString(v)
		}
	} else {
		next = nextLink(s.resp.header.Values("Link"))
	}
	if next == "" {
		return "", nil
	}
	l, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("next link: %v: %w", err, ErrBadResponse)
	}
	return s.url.ResolveReference(l).String(), nil
}

// nextLink returns the target of rel="next" in Link header values.
func nextLink(values []string) string {
	for _, v := range values {
		for _, link := range splitLinks(v) {
			target, params, ok := strings.Cut(link, ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target[1 : len(target)-1]
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header on the commas between links, not those
// inside <...> or quotes.
func splitLinks(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, r := range v {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '<':
			depth++
		case r == '>':
			depth--
		case r == ',' && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}
