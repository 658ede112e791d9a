package connector_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/accordhq/accord/internal/connector"
	"github.com/accordhq/accord/internal/spec"
)

func ExampleConnector_Create() {
	partner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Token secret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"bad key"}}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"incident":{"id":"inc_1"}}`)
	}))
	defer partner.Close()

	p := &spec.Provider{
		Name:    "incidents",
		BaseURL: partner.URL,
		Auth:    spec.Auth{Kind: spec.AuthAPIKey, Prefix: "Token "},
		Objects: map[string]*spec.Object{"incident": {Endpoints: spec.Endpoints{
			Create: &spec.Endpoint{Method: "POST", Path: "/v1/incidents", Body: "incident", IDPath: "incident.id", IdempotencyHeader: "Idempotency-Key"},
		}}},
	}
	conn, err := connector.New(p, &connector.Config{AllowLoopback: true})
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	call := connector.Call{Object: "incident", Doc: map[string]any{"title": "Checkout down"}, IdempotencyKey: "inst_1:ticket:42"}
	call.Auth = connector.AuthorizerFor(p, "secret")
	res, err := conn.Create(context.Background(), call)
	fmt.Println(res.ID, err)

	call.Auth = connector.AuthorizerFor(p, "wrong")
	_, err = conn.Create(context.Background(), call)
	fmt.Println(connector.IsRetryable(err), err)
	// Output:
	// inc_1 <nil>
	// false connector: incident create: auth (HTTP 401): bad key
}
