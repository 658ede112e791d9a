package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/accordhq/accord/internal/sim"
)

func ExampleNewIncidents() {
	s := sim.NewIncidents(&sim.Config{Token: "demo"})
	defer s.Stop()
	url, err := s.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	// The next two requests are rate limited, whatever they are.
	_ = s.Inject(sim.Fault{Kind: sim.FaultRateLimit, RetryAfter: 2 * time.Second, Count: 2})

	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/incidents",
			strings.NewReader(`{"incident":{"title":"T-1 escalated","severity":1}}`))
		req.Header.Set("Authorization", "Bearer demo")
		req.Header.Set("Idempotency-Key", "T-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("Retry-After"))))
	}
	fmt.Println(s.Count())
	// Output:
	// 429 2
	// 429 2
	// 201
	// 1
}
