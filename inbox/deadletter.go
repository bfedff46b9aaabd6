package inbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrNotForwardable means the event cannot be queued: it is quarantined,
// the destination is not one it was accepted for, or no forwarder serves
// the destination.
var ErrNotForwardable = errors.New("not forwardable")

// DeadLetter is one delivery given up on.
type DeadLetter struct {
	EventID     string    `json:"event_id"`
	Destination string    `json:"destination"`
	Source      string    `json:"source"`
	Type        string    `json:"type"`
	InterviewID string    `json:"interview_id,omitempty"`
	ReceivedAt  time.Time `json:"received_at"`
	At          time.Time `json:"at"` // when it was dead-lettered
	Reason      string    `json:"reason"`
	Attempts    int       `json:"attempts"`
	LastStatus  int       `json:"last_status,omitempty"`
}

// DeadLetterFilter selects dead letters. Empty fields match everything;
// Type may be a glob (MatchGlob); Since and Until bound DeadLetter.At
// (Since inclusive, Until exclusive).
type DeadLetterFilter struct {
	Destination string
	Source      string
	Type        string
	Since       time.Time
	Until       time.Time
	Limit       int // 0 means no limit
}

// Match reports whether dl passes f.
func (f DeadLetterFilter) Match(dl *DeadLetter) bool {
	if f.Destination != "" && dl.Destination != f.Destination {
		return false
	}
	if f.Source != "" && dl.Source != f.Source {
		return false
	}
	if f.Type != "" {
		if !MatchGlob(f.Type, dl.Type) {
			return false
		}
	}
	if !f.Since.IsZero() && dl.At.Before(f.Since) {
		return false
	}
	return f.Until.IsZero() || dl.At.Before(f.Until)
}

// ReplayRequest says who asks for a replay and why.
type ReplayRequest struct {
	By     string // token fingerprint
	Reason string
	// Serves reports whether a forwarder serves destination name; nil
	// means every destination. A replay never queues for a destination
	// no forwarder serves: the entry would wait unseen until the
	// destination came back, while the caller was told it was queued.
	Serves func(name string) bool
}

// ReplayTargets is the rule both engines apply to a replay of ev: the
// destinations to queue for dest, or for every destination ev was
// accepted for when dest is empty, leaving out those r.Serves refuses.
// It fails with ErrNotForwardable when ev is quarantined, dest is not
// one of ev's destinations, or none of the asked destinations is served.
func ReplayTargets(ev *Event, dest string, r ReplayRequest) ([]string, error) {
	switch ev.Status {
	case StatusQuarantined:
		return nil, fmt.Errorf("event %s is quarantined: %w", ev.ID, ErrNotForwardable)
	case StatusDuplicate:
		return nil, fmt.Errorf("event %s is a kept duplicate of %s; replay that event: %w", ev.ID, ev.DuplicateOf, ErrNotForwardable)
	}
	dests := ev.Destinations
	if dest != "" {
		if !slices.Contains(dests, dest) {
			return nil, fmt.Errorf("event %s has no destination %q: %w", ev.ID, dest, ErrNotForwardable)
		}
		dests = []string{dest}
	}
	if r.Serves == nil || len(dests) == 0 {
		return dests, nil
	}
	served := make([]string, 0, len(dests))
	for _, d := range dests {
		if r.Serves(d) {
			served = append(served, d)
		}
	}
	if len(served) == 0 {
		return nil, fmt.Errorf("event %s: %s not configured; add it back and reload before replaying: %w",
			ev.ID, quotedList(dests), ErrNotForwardable)
	}
	return served, nil
}

// quotedList names destinations for an error message.
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "destination " + q[0] + " is"
	}
	return "destinations " + strings.Join(q, ", ") + " are"
}

// BulkReplay is what a replay of dead letters did.
type BulkReplay struct {
	Queued int `json:"queued"`
	// NotConfigured counts the dead letters left as they are because no
	// forwarder serves their destination (ReplayRequest.Serves).
	NotConfigured int `json:"not_configured"`
}

// AbandonRequest says who gives up on a removed destination's pending
// deliveries (a token fingerprint) and why; both go into each
// delivery's history.
type AbandonRequest struct {
	By     string
	Reason string
}

// Abandoned is what an Abandon did.
type Abandoned struct {
	// DeadLettered counts the pending deliveries moved to the dead letters.
	DeadLettered int `json:"dead_lettered"`
	// Leased counts those left pending because a claim on them still
	// held: a node may be sending them now. Once its lease has passed, a
	// second Abandon takes them.
	Leased int `json:"leased"`
}
