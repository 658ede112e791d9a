package ui

import (
	"fmt"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// chart is a small server-rendered SVG bar chart of events over time,
// stacked by outcome: applied, failed, and everything else (stale,
// filtered, unlisted, in progress).
type chart struct {
	ID     string
	Title  string
	Desc   string
	Width  int
	Height int
	Bars   []bar
	Peak   int
	Start  string // label of the first bucket
	End    string // label of the last
	Zone   string // after End: "UTC" for a time axis
}

type bar struct {
	X, W                          float64
	AppliedY, AppliedH            float64
	FailedY, FailedH              float64
	OtherY, OtherH                float64
	Label                         string
	Applied, Failed, Other, Total int
}

const chartWidth, chartHeight = 480, 100

// newChart buckets hours into n buckets of size ending with the one that
// holds now.
func newChart(id, title string, hours []store.EventHour, now time.Time, n int, size time.Duration) chart {
	end := now.UTC().Truncate(size).Add(size)
	start := end.Add(-time.Duration(n) * size)
	bars := make([]bar, n)
	for _, h := range hours {
		if h.Start.Before(start) || !h.Start.Before(end) {
			continue
		}
		b := &bars[int(h.Start.Sub(start)/size)]
		for outcome, c := range h.Counts.Outcomes {
			switch outcome {
			case outcomeApplied:
				b.Applied += c
			case outcomeFailed:
				b.Failed += c
			default:
				b.Other += c
			}
		}
		b.Other += h.Counts.InFlight
	}
	c := chart{ID: id, Title: title, Width: chartWidth, Height: chartHeight, Bars: bars, Zone: "UTC"}
	applied, failed, total := 0, 0, 0
	for i := range bars {
		b := &bars[i]
		b.Total = b.Applied + b.Failed + b.Other
		c.Peak = max(c.Peak, b.Total)
		applied, failed, total = applied+b.Applied, failed+b.Failed, total+b.Total
	}
	slot := float64(chartWidth) / float64(n)
	scale := float64(chartHeight) / float64(max(c.Peak, 1))
	for i := range bars {
		b := &bars[i]
		from := start.Add(time.Duration(i) * size)
		b.X, b.W = float64(i)*slot+slot*0.1, slot*0.8
		y := float64(chartHeight)
		b.AppliedH = float64(b.Applied) * scale
		y -= b.AppliedH
		b.AppliedY = y
		b.FailedH = float64(b.Failed) * scale
		y -= b.FailedH
		b.FailedY = y
		b.OtherH = float64(b.Other) * scale
		y -= b.OtherH
		b.OtherY = y
		b.Label = fmt.Sprintf("%s–%s: %d events, %d applied, %d failed, %d other",
			from.Format("Jan 2 15:04"), from.Add(size).Format("15:04"), b.Total, b.Applied, b.Failed, b.Other)
	}
	c.Start, c.End = start.Format("Jan 2 15:04"), end.Format("Jan 2 15:04")
	c.Desc = fmt.Sprintf("%d events from %s to %s UTC: %d applied, %d failed; the busiest bar has %d.",
		total, c.Start, c.End, applied, failed, c.Peak)
	return c
}
