package metrics

import (
	"time"

	"github.com/porchgw/porch/inbox"
)

// Settler records the outcome of forward attempts in the store. It has the
// method set of forward.Settler (which every inbox.Store implements), so
// SettlerWith can sit between the dispatcher and the store without either
// package knowing about metrics.
type Settler interface {
	Ack(d inbox.Delivery, a inbox.Attempt) error
	Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error
	DeadLetter(d inbox.Delivery, a *inbox.Attempt, reason string) error
}

var _ Settler = inbox.Store(nil)

// SettlerWith wraps next so that every settled forward attempt is counted
// (porch_forward_attempts_total, porch_forward_duration_seconds) and every
// dead letter too (porch_dead_letters_total). Outcomes are recorded only
// once the store accepted them.
func (r *Registry) SettlerWith(next Settler) Settler { return &observedSettler{next: next, reg: r} }

type observedSettler struct {
	next Settler
	reg  *Registry
}

func (s *observedSettler) Ack(d inbox.Delivery, a inbox.Attempt) error {
	err := s.next.Ack(d, a)
	if err == nil {
		s.attempt(d, &a, inbox.OutcomeDelivered)
	}
	return err
}

func (s *observedSettler) Retry(d inbox.Delivery, next time.Time, a *inbox.Attempt) error {
	err := s.next.Retry(d, next, a)
	if err == nil {
		s.attempt(d, a, inbox.OutcomeRetry) // nil a: a deferral, not an attempt
	}
	return err
}

func (s *observedSettler) DeadLetter(d inbox.Delivery, a *inbox.Attempt, reason string) error {
	err := s.next.DeadLetter(d, a, reason)
	if err == nil {
		s.attempt(d, a, inbox.OutcomeDead)
		s.reg.ObserveDeadLetter(d.Destination)
	}
	return err
}

func (s *observedSettler) attempt(d inbox.Delivery, a *inbox.Attempt, outcome string) {
	if a == nil || a.Kind != inbox.AttemptSend {
		return
	}
	s.reg.ObserveForward(d.Destination, outcome, time.Duration(a.LatencyMS)*time.Millisecond)
}
