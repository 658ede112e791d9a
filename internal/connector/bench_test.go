package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCreate measures the connector's overhead over a raw http.Client
// posting the same JSON to the same no-op partner on loopback.
func BenchmarkCreate(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"incident":{"id":"inc_1","title":"Checkout down"}}`)
	}))
	defer srv.Close()
	doc := map[string]any{"title": "Checkout down", "severity": "high", "description": "Escalated from ticket 42"}

	b.Run("raw_http_client", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		url := srv.URL + "/api/v1/incidents"
		b.ReportAllocs()
		for b.Loop() {
			body, _ := json.Marshal(map[string]any{"incident": doc})
			req, _ := http.NewRequestWithContext(context.Background(), "POST", url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+testSecret)
			req.Header.Set("Idempotency-Key", "k")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			_ = resp.Body.Close()
		}
	})

	b.Run("connector", func(b *testing.B) {
		conn, err := New(testProvider(srv.URL), &Config{AllowLoopback: true})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		auth := apiKey()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Create(context.Background(), Call{Object: "incident", Doc: doc, IdempotencyKey: "k", Auth: auth}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
