package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/spec"
)

// fiveIncidents is the partner's whole list.
var fiveIncidents = []string{"a", "b", "c", "d", "e"}

func itemsJSON(ids []string) string {
	out := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]string{"id": id})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// readAll pages through the list and returns the ids and the requests'
// queries.
func readAll(t *testing.T, b *bundle, lc ListCall) []string {
	t.Helper()
	var ids []string
	for range 10 {
		page, err := b.conn.List(context.Background(), lc)
		require.NoError(t, err)
		for _, it := range page.Items {
			ids = append(ids, it["id"].(string))
		}
		if page.Next == "" {
			return ids
		}
		lc.Cursor = page.Next
	}
	t.Fatal("pagination did not end")
	return nil
}

func TestListCursor(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		end := min(start+n, len(fiveIncidents))
		next := ""
		if end < len(fiveIncidents) {
			next = strconv.Itoa(end)
		}
		reply(200, fmt.Sprintf(`{"incidents":%s,"meta":{"next_cursor":%q}}`, itemsJSON(fiveIncidents[start:end]), next))(w, r)
	})
	ids := readAll(t, b, ListCall{Object: "incident", Query: map[string][]string{"updated_since": {"2025-01-01T00:00:00Z"}}, Auth: apiKey()})
	require.Equal(t, fiveIncidents, ids)
	reqs := b.requests()
	require.Len(t, reqs, 3)
	require.Equal(t, "limit=2&updated_since=2025-01-01T00%3A00%3A00Z", reqs[0].RawQuery)
	require.Equal(t, "cursor=2&limit=2&updated_since=2025-01-01T00%3A00%3A00Z", reqs[1].RawQuery)
	require.Equal(t, "Token "+testSecret, reqs[2].Header.Get("Authorization"))
}

func TestListCursorRepeatedIsAnError(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"incidents":[{"id":"a"}],"meta":{"next_cursor":"same"}}`))
	_, err := b.conn.List(context.Background(), ListCall{Object: "incident", Cursor: "same"})
	require.ErrorIs(t, err, ErrBadResponse)
}

func TestListPageAndOffset(t *testing.T) {
	t.Parallel()
	cases := []struct {
		style string
		slice func(q string, n int) (int, int)
		want  []string // the requests' queries
	}{
		{spec.PagePage, func(q string, n int) (int, int) {
			p := 1
			if q != "" {
				p, _ = strconv.Atoi(q)
			}
			return (p - 1) * n, n
		}, []string{"per_page=2", "p=2&per_page=2", "p=3&per_page=2"}},
		{spec.PageOffset, func(q string, n int) (int, int) {
			o, _ := strconv.Atoi(q)
			return o, n
		}, []string{"per_page=2", "p=2&per_page=2", "p=4&per_page=2"}},
	}
	for _, tc := range cases {
		t.Run(tc.style, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
				start, size := tc.slice(r.URL.Query().Get("p"), n)
				start = min(start, len(fiveIncidents))
				end := min(start+size, len(fiveIncidents))
				reply(200, `{"incidents":`+itemsJSON(fiveIncidents[start:end])+`}`)(w, r)
			}, func(p *spec.Provider, _ *Config) {
				p.Pagination = &spec.Pagination{Style: tc.style, Param: "p", LimitParam: "per_page", Limit: 2}
			})
			require.Equal(t, fiveIncidents, readAll(t, b, ListCall{Object: "incident"}))
			var got []string
			for _, r := range b.requests() {
				got = append(got, r.RawQuery)
			}
			require.Equal(t, tc.want, got, "a short page ends the list without asking for an empty one")
		})
	}
}

func TestListPageWithoutSizeStopsOnEmptyPage(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			reply(200, `{"incidents":[{"id":"a"}]}`)(w, r)
			return
		}
		reply(200, `{"incidents":[]}`)(w, r)
	}, func(p *spec.Provider, _ *Config) {
		p.Pagination = &spec.Pagination{Style: spec.PagePage, Param: "page"}
	})
	require.Equal(t, []string{"a"}, readAll(t, b, ListCall{Object: "incident"}))
	require.Len(t, b.requests(), 2)
}

func TestListLinkHeader(t *testing.T) {
	t.Parallel()
	var base string
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("after") {
		case "":
			w.Header().Set("Link", `<`+base+`/api/v1/incidents?after=b&size=2>; rel="next", <`+base+`/api/v1/incidents>; rel="first"`)
			reply(200, `{"incidents":`+itemsJSON(fiveIncidents[:2])+`}`)(w, r)
		case "b":
			// A relative link, resolved against the page's URL.
			w.Header().Set("Link", `</api/v1/incidents?after=d&size=2>; rel="prev next"`)
			reply(200, `{"incidents":`+itemsJSON(fiveIncidents[2:4])+`}`)(w, r)
		default:
			reply(200, `{"incidents":`+itemsJSON(fiveIncidents[4:])+`}`)(w, r)
		}
	}, func(p *spec.Provider, _ *Config) {
		p.Pagination = &spec.Pagination{Style: spec.PageLink, LimitParam: "size", Limit: 2}
	})
	base = b.srv.URL
	require.Equal(t, fiveIncidents, readAll(t, b, ListCall{Object: "incident", Auth: apiKey()}))
	reqs := b.requests()
	require.Equal(t, "size=2", reqs[0].RawQuery)
	require.Equal(t, "after=b&size=2", reqs[1].RawQuery)
	require.Equal(t, "after=d&size=2", reqs[2].RawQuery)
}

func TestListLinkToAnotherOriginIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"incidents":[{"id":"a"}]}`, "Link", `<https://attacker.example/steal>; rel="next"`),
		func(p *spec.Provider, _ *Config) { p.Pagination = &spec.Pagination{Style: spec.PageLink} })
	_, err := b.conn.List(context.Background(), ListCall{Object: "incident", Auth: apiKey()})
	require.ErrorIs(t, err, ErrForeignLink)

	_, err = b.conn.List(context.Background(), ListCall{Object: "incident", Cursor: "https://attacker.example/steal", Auth: apiKey()})
	require.ErrorIs(t, err, ErrForeignLink)
	require.Len(t, b.requests(), 1, "the foreign link is never fetched")
}

func TestListPathParamsAndNoPagination(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"messages":[{"ts":"1"},{"ts":"2"}]}`),
		func(p *spec.Provider, _ *Config) { p.Pagination = nil })
	page, err := b.conn.List(context.Background(), ListCall{Object: "message", Params: map[string]any{"channel": "C42"}})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	require.Empty(t, page.Next)
	require.Equal(t, "/api/v1/channels/C42/messages", b.last(t).Path)
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`<https://a.example/x?page=2>; rel="next"`:                                 "https://a.example/x?page=2",
		`<https://a.example/x?a=1,2>; rel="prev", <https://a.example/y>; rel=next`: "https://a.example/y",
		`<https://a.example/x>; rel="last"`:                                        "",
		`garbage`:                                                                  "",
	}
	for in, want := range cases {
		require.Equal(t, want, nextLink([]string{in}), in)
	}
}

// Stripe pages by the last id seen (starting_after) while has_more is true.
func TestListAfterID(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		start := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			start = slices.Index(fiveIncidents, after) + 1
		}
		end := min(start+2, len(fiveIncidents))
		reply(200, fmt.Sprintf(`{"incidents":%s,"has_more":%t}`, itemsJSON(fiveIncidents[start:end]), end < len(fiveIncidents)))(w, r)
	}, func(p *spec.Provider, _ *Config) {
		p.Pagination = &spec.Pagination{Style: spec.PageAfterID, Param: "starting_after", HasMore: "has_more", LimitParam: "limit", Limit: 2}
	})
	ids := readAll(t, b, ListCall{Object: "incident", Auth: apiKey()})
	require.Equal(t, fiveIncidents, ids)
	reqs := b.requests()
	require.Len(t, reqs, 3)
	require.Equal(t, "limit=2", reqs[0].RawQuery)
	require.Equal(t, "limit=2&starting_after=b", reqs[1].RawQuery)
	require.Equal(t, "limit=2&starting_after=d", reqs[2].RawQuery)
}

// has_more with an item lacking its id cannot go on: an error, not a loop
// over the first page.
func TestListAfterIDWithoutAnID(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"incidents":[{"title":"x"}],"has_more":true}`), func(p *spec.Provider, _ *Config) {
		p.Pagination = &spec.Pagination{Style: spec.PageAfterID, Param: "starting_after", HasMore: "has_more"}
	})
	_, err := b.conn.List(context.Background(), ListCall{Object: "incident", Auth: apiKey()})
	require.ErrorIs(t, err, ErrBadResponse)
}

// HubSpot lists objects as {"id":…, "properties":{…}}: with item set, each
// listed object is its properties, keeping the entry's id.
func TestListItemPath(t *testing.T) {
	t.Parallel()
	b := setup(t, reply(200, `{"results":[{"id":"1001","properties":{"name":"Acme"}},{"id":"1002","properties":{"name":"Globex","id":"kept"}}]}`),
		func(p *spec.Provider, _ *Config) {
			p.Objects["incident"].Endpoints.List = &spec.Endpoint{Method: http.MethodGet, Path: "/api/v1/incidents", Items: "results", Item: "properties"}
		})
	page, err := b.conn.List(context.Background(), ListCall{Object: "incident", Auth: apiKey()})
	require.NoError(t, err)
	require.Equal(t, []map[string]any{{"id": "1001", "name": "Acme"}, {"id": "kept", "name": "Globex"}}, page.Items)
}

// GitHub answers a list as a bare JSON array, paged by its Link header:
// items "." names the body itself.
func TestListBareArray(t *testing.T) {
	t.Parallel()
	var base string
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", `<`+base+`/api/v1/incidents?page=2>; rel="next"`)
			reply(200, `[{"id":"a"},{"id":"b"}]`)(w, r)
			return
		}
		reply(200, `[{"id":"c"}]`)(w, r)
	}, func(p *spec.Provider, _ *Config) {
		p.Pagination = &spec.Pagination{Style: spec.PageLink}
		p.Objects["incident"].Endpoints.List = &spec.Endpoint{Method: http.MethodGet, Path: "/api/v1/incidents", Items: "."}
	})
	base = b.srv.URL
	require.Equal(t, []string{"a", "b", "c"}, readAll(t, b, ListCall{Object: "incident", Auth: apiKey()}))
}
