package metrics

import (
	"slices"
	"strconv"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
)

// Source is a configured ingest source as the metrics see it.
type Source struct {
	Name      string
	Provider  string // a gateway provider name
	Secrets   int    // how many secrets it accepts (rotation)
	Canonical bool   // it may verify by re-serialisation (gateway.ModeCanonical)
}

// Outcomes of requests that never became authentic events: they carry
// no event label (Outcome.Event is "").
var eventlessResults = []string{
	gateway.ResultControl, gateway.ResultRejected, gateway.ResultForbidden, gateway.ResultRateLimited,
	gateway.ResultTooLarge, gateway.ResultUnavailable, gateway.ResultBadRequest, gateway.ResultError,
}

// Outcomes of authentic deliveries, labelled with a documented event type
// or gateway.OtherEvent.
var eventResults = []string{gateway.ResultAccepted, gateway.ResultDuplicate, gateway.ResultQuarantined}

// forwardOutcomes are the outcomes SettlerWith counts.
var forwardOutcomes = []string{inbox.OutcomeDelivered, inbox.OutcomeRetry, inbox.OutcomeDead}

// SetConfigured declares the configured sources and destinations: every
// labelled series they can have starts at 0, so that increase() and
// rate() see the first event after a start or a reload instead of a
// series appearing with it. Call it at start and after each reload;
// series of sources and destinations no longer configured keep their
// values, except the deadline gauge, which is replaced.
func (r *Registry) SetConfigured(sources []Source, destinations []string) {
	r.ackDeadline.Reset()
	for _, s := range sources {
		r.declareSource(s)
	}
	for _, d := range destinations {
		r.declareDestination(d)
	}
	r.destinations.Store(&destinations)
}

func (r *Registry) declareSource(s Source) {
	def, ok := gateway.Lookup(s.Provider)
	if ok {
		r.ackDeadline.WithLabelValues(s.Name, s.Provider).Set(def.Deadline.Seconds())
	}
	r.ackLatency.WithLabelValues(s.Name)
	r.dedupHits.WithLabelValues(s.Name)
	for _, res := range eventlessResults {
		r.deliveries.WithLabelValues(s.Name, "", res)
	}
	for _, ev := range append(def.Events, gateway.OtherEvent) {
		for _, res := range eventResults {
			r.deliveries.WithLabelValues(s.Name, ev, res)
		}
	}
	modes := []string{gateway.ModeRaw}
	if s.Canonical {
		modes = append(modes, gateway.ModeCanonical)
	}
	for i := range s.Secrets {
		for _, mode := range modes {
			r.verifications.WithLabelValues(s.Name, mode, strconv.Itoa(i))
		}
	}
}

func (r *Registry) declareDestination(d string) {
	for _, outcome := range forwardOutcomes {
		r.forwardAttempts.WithLabelValues(d, outcome)
	}
	r.forwardLatency.WithLabelValues(d)
	r.deadLetters.WithLabelValues(d)
}

// configuredDestinations is the last SetConfigured's destinations.
func (r *Registry) configuredDestinations() []string {
	if p := r.destinations.Load(); p != nil {
		return slices.Clone(*p)
	}
	return nil
}
