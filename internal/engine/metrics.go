package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accordhq/accord/internal/store"
)

type metrics struct {
	actionsVec       *prometheus.CounterVec
	retriesVec       *prometheus.CounterVec
	eventsVec        *prometheus.CounterVec
	panics           prometheus.Counter
	uncertain        prometheus.Gauge
	uncertainMarked  prometheus.Counter
	uncertainSettled *prometheus.CounterVec
	durationVec      *prometheus.HistogramVec
	eventToActionVec *prometheus.HistogramVec
	unknownVec       *prometheus.CounterVec
	echoVec          *prometheus.CounterVec
	driftVec         *prometheus.CounterVec
	mergeVec         *prometheus.CounterVec
	deleteVec        *prometheus.CounterVec
	conflictVec      *prometheus.CounterVec
	filteredVec      *prometheus.CounterVec
}

// Why a trigger acted on nothing (accord_trigger_filtered_total).
const (
	filterCondition  = "condition"   // the trigger's condition was false
	filterTriggerOff = "trigger_off" // the installation switched the trigger off
)

type actionLabels struct{ tenant, provider, installation string }

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		actionsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_actions_total",
			Help: "Final outcome of each (event, action), counted once when its event's delivery is final, by tenant, target provider, installation and outcome (applied, unchanged, stale, filtered, failed).",
		}, []string{"tenant", "provider", "installation", "outcome"}),
		retriesVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_action_retries_total",
			Help: "Runs of an action that did not finish it yet, by tenant, target provider, installation and reason (retried, throttled, paused, busy, uncertain). None is final.",
		}, []string{"tenant", "provider", "installation", "reason"}),
		eventsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_event_outcomes_total",
			Help: "Final outcome of each accepted event, counted once, by tenant and outcome (applied, stale, filtered, no_installation, failed).",
		}, []string{"tenant", "outcome"}),
		uncertain: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "accord_uncertain_writes",
			Help: "Partner writes whose answer never came, pending settlement (sampled by the settlement job).",
		}),
		uncertainMarked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accord_uncertain_writes_marked_total",
			Help: "Partner writes whose answer never came (timeout, reset, cancelled): each marks its link for settlement.",
		}),
		uncertainSettled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accord_uncertain_writes_settled_total",
			Help: "Uncertain writes settled after the answer window, by how: resent (the newest state written again), adopted (a create that landed was found), absent (nothing found; the event's retry finishes it).",
		}, []string{"how"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "accord_delivery_panics_total",
			Help: "Deliveries that panicked: each failed its event or action with a record error and the stack in the log.",
		}),
		durationVec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "accord_action_duration_seconds",
			Help:    "Time spent writing to the partner for one action, by provider and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider", "op"}),
		eventToActionVec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "accord_event_to_action_seconds",
			Help:    "Time from receiving an event to its partner write, by target provider.",
			Buckets: []float64{.0005, .001, .002, .003, .005, .0075, .01, .015, .025, .05, .075, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"provider"}),
	}
	m.unknownVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_mapping_unknown_fields_total",
		Help: "Source fields the provider manifest does not declare, ignored by mappings, by source provider and object.",
	}, []string{"provider", "object"})
	m.echoVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_echo_suppressed_total",
		Help: "Writes not sent because the linked partner object already holds exactly the mapped values Accord last wrote: Accord's own write coming back (two-way sync), a poll and a webhook of one change, or a change to fields the action does not map. By target provider.",
	}, []string{"provider"})
	m.driftVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_sync_drift_total",
		Help: "Two-way contracts: fields Accord wrote that were then changed on the side that does not own them, by provider, object, field and what was done (reported as a drift record error, or reverted to the owner's value).",
	}, []string{"provider", "object", "field", "action"})
	m.mergeVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_sync_merges_total",
		Help: "Partner objects merged into another (the survivor's merged_ids) whose links Accord moved onto the survivor, by provider and object.",
	}, []string{"provider", "object"})
	m.deleteVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_sync_deletes_total",
		Help: "Source records deleted whose linked target an action handled, by target provider, object and what was done (propagated: the target deleted; marked: the delete_mark rows written; ignored: left as it is; unlinked: no target to handle).",
	}, []string{"provider", "object", "action"})
	m.conflictVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_sync_conflicts_total",
		Help: "Two-way contracts with on_conflict: fields both sides changed since Accord last wrote them, found by reading the target before an update, by target provider, object, field and resolution (owner_wins: the owner's value written and the conflict recorded in the audit log; hold: nothing written, a conflict record error filed).",
	}, []string{"provider", "object", "field", "resolution"})
	m.filteredVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accord_trigger_filtered_total",
		Help: "An installation's trigger taking an event but acting on nothing, by reason: condition (the trigger's condition was false) or trigger_off (the installation switched the trigger off).",
	}, []string{"reason"})
	if reg != nil {
		reg.MustRegister(m.echoVec, m.driftVec, m.mergeVec, m.deleteVec, m.conflictVec, m.filteredVec)
		reg.MustRegister(m.actionsVec, m.retriesVec, m.eventsVec, m.panics, m.uncertain, m.uncertainMarked, m.uncertainSettled, m.durationVec, m.eventToActionVec, m.unknownVec)
	}
	return m
}

func (m *metrics) echo(provider string) { m.echoVec.WithLabelValues(provider).Inc() }

func (m *metrics) conflict(provider, object, field, resolution string) {
	m.conflictVec.WithLabelValues(provider, object, field, resolution).Inc()
}

func (m *metrics) deleted(provider, object, action string) {
	m.deleteVec.WithLabelValues(provider, object, action).Inc()
}

func (m *metrics) merge(provider, object string) { m.mergeVec.WithLabelValues(provider, object).Inc() }

func (m *metrics) drift(provider, object, field string, reverted bool) {
	action := "reported"
	if reverted {
		action = "reverted"
	}
	m.driftVec.WithLabelValues(provider, object, field, action).Inc()
}

func (m *metrics) labels(inst store.Installation, provider string) actionLabels {
	return actionLabels{tenant: inst.TenantID, provider: provider, installation: inst.ID}
}

func (m *metrics) action(l actionLabels, outcome string) {
	m.actionsVec.WithLabelValues(l.tenant, l.provider, l.installation, outcome).Inc()
}

func (m *metrics) retry(l actionLabels, reason string) {
	m.retriesVec.WithLabelValues(l.tenant, l.provider, l.installation, reason).Inc()
}

func (m *metrics) eventOutcome(tenant, outcome string) {
	m.eventsVec.WithLabelValues(tenant, outcome).Inc()
}

func (m *metrics) filtered(reason string) { m.filteredVec.WithLabelValues(reason).Inc() }

func (m *metrics) panic() { m.panics.Inc() }

func (m *metrics) duration(provider, op string, d time.Duration) {
	m.durationVec.WithLabelValues(provider, op).Observe(d.Seconds())
}

func (m *metrics) eventToAction(provider string, d time.Duration) {
	m.eventToActionVec.WithLabelValues(provider).Observe(d.Seconds())
}

func (m *metrics) unknownFields(provider, object string, n int) {
	m.unknownVec.WithLabelValues(provider, object).Add(float64(n))
}
