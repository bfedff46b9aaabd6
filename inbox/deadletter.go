package inbox

import (
	"errors"
	"time"
)

// ErrNotForwardable means the event cannot be queued: it is quarantined,
// or the destination is not one it was accepted for.
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
}
