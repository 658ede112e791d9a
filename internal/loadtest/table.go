package loadtest

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// WriteTable prints results as an aligned table, one run per row.
// Latencies are in milliseconds; "engine" is the engine's own histogram
// (bucket-interpolated), "e2e" is measured per event.
func WriteTable(w io.Writer, results ...*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tevents\trate/s\terrors\tmissing\tlate\tack p50\tack p99\te2e p50\te2e p90\te2e p99\te2e max\tengine p50\tengine p90\tengine p99\tcpu ms/event\t")
	for _, r := range results {
		e2e := [4]string{"-", "-", "-", "-"}
		eng := [3]string{"-", "-", "-"}
		missing := "-"
		if r.EndToEnd.N > 0 || r.Name != "noop" {
			e2e = [4]string{ms(r.EndToEnd.P50), ms(r.EndToEnd.P90), ms(r.EndToEnd.P99), ms(r.EndToEnd.Max)}
			eng = [3]string{ms(r.Engine.P50), ms(r.Engine.P90), ms(r.Engine.P99)}
			missing = strconv.Itoa(r.Missing)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Name, r.Events, r.Rate, r.Errors, missing, r.Late, ms(r.Ack.P50), ms(r.Ack.P99),
			e2e[0], e2e[1], e2e[2], e2e[3], eng[0], eng[1], eng[2], strconv.FormatFloat(float64(r.CPUPerEvent)/float64(time.Millisecond), 'f', 2, 64))
	}
	return tw.Flush()
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}
