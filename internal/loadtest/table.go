package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// WriteTable prints results as a markdown table, one run per row. Every
// latency is in milliseconds from the event's scheduled send (open loop),
// so a late send's wait is inside it: "ack" to the webhook's durable 2xx,
// "e2e" to the event's delivery being final (every action's partner write
// answered and its link committed), "first write" to the incident's
// creation at the simulator, "engine" the engine's own histogram
// (receipt → partner write, bucket-interpolated).
func WriteTable(w io.Writer, results ...*Result) error {
	var b strings.Builder
	b.WriteString("| run | events | rate/s | errors | missing | late | ack p50 | ack p99 | e2e p50 | e2e p90 | e2e p99 | e2e max | first write p50 | first write p99 | engine p50 | engine p99 | cpu ms/event |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		e2e := [4]string{"-", "-", "-", "-"}
		first := [2]string{"-", "-"}
		eng := [2]string{"-", "-"}
		missing := "-"
		if !strings.HasPrefix(r.Name, "noop") {
			e2e = [4]string{ms(r.EndToEnd.P50), ms(r.EndToEnd.P90), ms(r.EndToEnd.P99), ms(r.EndToEnd.Max)}
			first = [2]string{ms(r.FirstWrite.P50), ms(r.FirstWrite.P99)}
			eng = [2]string{ms(r.Engine.P50), ms(r.Engine.P99)}
			missing = strconv.Itoa(r.Missing)
		}
		cpu := strconv.FormatFloat(float64(r.CPUPerEvent)/float64(time.Millisecond), 'f', 2, 64)
		if r.DBCPU {
			cpu += " (incl. PostgreSQL)"
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Name, r.Events, r.Rate, r.Errors, missing, r.Late, ms(r.Ack.P50), ms(r.Ack.P99),
			e2e[0], e2e[1], e2e[2], e2e[3], first[0], first[1], eng[0], eng[1], cpu)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// Report is one bench invocation as JSON: what ran, where, and the rows.
type Report struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	Machine  Machine   `json:"machine"`
	Config   struct {
		Rate     float64 `json:"rate"`
		Duration string  `json:"duration"`
		Clients  int     `json:"clients"`
		Tenants  int     `json:"tenants"`
		DB       string  `json:"db"`
	} `json:"config"`
	// CeilingSpread is the no-op ceiling's rate change from the start to
	// the end of the run, in percent: how much the machine itself moved.
	CeilingSpread float64   `json:"ceiling_spread_percent"`
	Results       []*Result `json:"results"`
}

// Machine is what the figures were measured on.
type Machine struct {
	OS, Arch  string
	CPUs      int
	CPUModel  string `json:",omitempty"`
	GoVersion string
}

// NewReport describes this machine and build for results of c.
func NewReport(c *Config, results []*Result) *Report {
	r := &Report{At: time.Now().UTC(), Results: results,
		Machine: Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version()}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				r.Revision = s.Value
			}
		}
	}
	cfg, _ := c.withDefaults()
	r.Config.Rate, r.Config.Duration, r.Config.Clients, r.Config.Tenants = cfg.Rate, cfg.Duration.String(), cfg.Clients, cfg.Tenants
	r.Config.DB = dialect(cfg.DB)
	var noop []*Result
	for _, res := range results {
		if strings.HasPrefix(res.Name, "noop") {
			noop = append(noop, res)
		}
	}
	if len(noop) >= 2 && noop[0].Rate > 0 {
		r.CeilingSpread = (noop[len(noop)-1].Rate - noop[0].Rate) / noop[0].Rate * 100
	}
	return r
}

// WriteJSON writes the report, indented.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
