package inbox

import (
	"time"
)

// Attempt kinds.
const (
	AttemptSend   = "attempt" // a request was sent (or tried)
	AttemptReplay = "replay"  // an operator queued the event again
	// AttemptAbandon: an operator gave up on the delivery because its
	// destination was removed; nothing was sent.
	AttemptAbandon = "abandon"
)

// Attempt outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeDead      = "dead"
	OutcomeQueued    = "queued" // a replay put the event back in the outbox
)

// MaxAttemptResponse is how much of a response body an Attempt keeps.
const MaxAttemptResponse = 1 << 10

// Attempt is one line of an event's delivery history.
type Attempt struct {
	N           uint64    `json:"n"` // set by the store: position in this destination's history
	Kind        string    `json:"kind"`
	Destination string    `json:"destination"` // set by the store
	At          time.Time `json:"at"`
	// Number is the X-Porch-Attempt value sent: attempts ever made to
	// this destination, replays included.
	Number    int   `json:"number,omitempty"`
	Status    int   `json:"status,omitempty"` // HTTP status, 0 when no response came
	LatencyMS int64 `json:"latency_ms,omitempty"`
	// LatencyUS is the same duration in microseconds, which shows a fast
	// attempt's duration too; absent from attempts recorded before it.
	LatencyUS int64  `json:"latency_us,omitempty"`
	Error     string `json:"error,omitempty"`
	// Response is the first MaxAttemptResponse bytes of the response body.
	Response string    `json:"response,omitempty"`
	Outcome  string    `json:"outcome"`
	NextAt   time.Time `json:"next_at,omitzero"`
	// By and Reason say who asked for a replay or an abandonment (a token
	// fingerprint) and why.
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}
