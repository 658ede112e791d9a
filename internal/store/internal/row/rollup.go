package row

import (
	"slices"
	"time"

	"github.com/accordhq/accord/internal/store"
)

// HourCount is how many events of one connection received in one hour
// (Unix hours) are in a state with an outcome.
type HourCount struct {
	Hour    int64
	State   store.EventState
	Outcome string
	N       int
}

// RollupIO is what CountEvents needs from a dialect.
type RollupIO struct {
	// Rolled returns the stored rollup rows of hours [from, to) (done
	// events only; a sealed hour without events has one row with N 0).
	Rolled func(fromHour, toHour int64) ([]HourCount, error)
	// Raw counts the events received in [from, to) by hour, state and
	// outcome.
	Raw func(from, to time.Time) ([]HourCount, error)
	// Seal stores rows as rollups, skipping hours already stored. A
	// failure only costs the next read a recount.
	Seal func(rows []HourCount) error
}

// SettleAfter is how long after an hour ends its counts may be sealed:
// an event is stored within it of its receipt. An hour with an event not
// yet done (pending, queued: a retry in progress) is not sealed.
const SettleAfter = time.Hour

// rawUntil bounds "until now" for Raw: far enough, and a time every
// dialect stores.
var rawUntil = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// UnixHour is the hour t falls in, in hours since the Unix epoch.
func UnixHour(t time.Time) int64 { return t.Unix() / 3600 }

// CountEvents sums EventsByHour.
func CountEvents(since, now time.Time, io RollupIO) (store.EventCounts, error) {
	rows, err := EventsByHour(since, now, io)
	if err != nil {
		return store.EventCounts{}, err
	}
	out := store.EventCounts{Outcomes: map[string]int{}}
	for _, r := range rows {
		if r.N == 0 {
			continue
		}
		if r.State == store.EventDone {
			out.Outcomes[r.Outcome] += r.N
		} else {
			out.InFlight += r.N
		}
	}
	return out, nil
}

// EventsByHour counts a connection's events received since since by hour,
// state and outcome, reading whole hours that ended at least SettleAfter
// before now from the rollup table and sealing the ones not there yet;
// the partial first hour and the recent ones come from the events
// themselves. The rollup keeps the cost of a 7-day window to a few
// hundred rows whatever the traffic. Rows with N 0 mark empty hours.
func EventsByHour(since, now time.Time, io RollupIO) ([]HourCount, error) {
	sealBefore := now.UTC().Truncate(time.Hour).Add(-SettleAfter)
	firstFull := since.UTC().Truncate(time.Hour)
	if firstFull.Before(since) {
		firstFull = firstFull.Add(time.Hour)
	}
	if !firstFull.Before(sealBefore) {
		return io.Raw(since, rawUntil)
	}
	var out []HourCount
	for _, span := range [][2]time.Time{{since, firstFull}, {sealBefore, rawUntil}} {
		if !span[0].Before(span[1]) {
			continue
		}
		rows, err := io.Raw(span[0], span[1])
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	from, to := UnixHour(firstFull), UnixHour(sealBefore)
	rolled, err := io.Rolled(from, to)
	if err != nil {
		return nil, err
	}
	out = append(out, rolled...)
	have := map[int64]bool{}
	for _, r := range rolled {
		have[r.Hour] = true
	}
	var seal []HourCount
	for h := from; h < to; {
		if have[h] {
			h++
			continue
		}
		end := h
		for end < to && !have[end] {
			end++
		}
		rows, err := io.Raw(time.Unix(h*3600, 0), time.Unix(end*3600, 0))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		seal = append(seal, sealable(h, end, rows)...)
		h = end
	}
	if len(seal) > 0 {
		_ = io.Seal(seal)
	}
	return out, nil
}

// sealable returns the rollup rows of hours [from, to) given their raw
// counts: the done counts of each hour with nothing in flight, or a zero
// marker for an hour without events.
func sealable(from, to int64, rows []HourCount) []HourCount {
	byHour := map[int64][]HourCount{}
	for _, r := range rows {
		byHour[r.Hour] = append(byHour[r.Hour], r)
	}
	var out []HourCount
	for h := from; h < to; h++ {
		rs := byHour[h]
		if len(rs) == 0 {
			out = append(out, HourCount{Hour: h, State: store.EventDone})
			continue
		}
		settled := true
		for _, r := range rs {
			if r.State != store.EventDone {
				settled = false
			}
		}
		if settled {
			out = append(out, rs...)
		}
	}
	return out
}

// ByHour folds rows into one EventHour per hour with events, oldest first.
func ByHour(rows []HourCount) []store.EventHour {
	idx := map[int64]int{}
	var out []store.EventHour
	for _, r := range rows {
		if r.N == 0 {
			continue
		}
		i, ok := idx[r.Hour]
		if !ok {
			i = len(out)
			idx[r.Hour] = i
			out = append(out, store.EventHour{Start: time.Unix(r.Hour*3600, 0).UTC(), Counts: store.EventCounts{Outcomes: map[string]int{}}})
		}
		if r.State == store.EventDone {
			out[i].Counts.Outcomes[r.Outcome] += r.N
		} else {
			out[i].Counts.InFlight += r.N
		}
	}
	slices.SortFunc(out, func(a, b store.EventHour) int { return a.Start.Compare(b.Start) })
	return out
}
