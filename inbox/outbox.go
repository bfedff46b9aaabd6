package inbox

import (
	"time"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one event's pending forward to one destination.
type Delivery struct {
	EventID     string    `json:"event_id"`
	Destination string    `json:"destination"`
	InterviewID string    `json:"interview_id,omitempty"`
	Seq         uint64    `json:"seq"`      // the event's archive sequence: receive order
	Attempts    int       `json:"attempts"` // attempts counted against max_attempts since (re)queueing
	Total       int       `json:"total"`    // attempts ever made, across replays
	DueAt       time.Time `json:"due_at"`
	// Failures is how many attempts in a row failed since (re)queueing;
	// it drives the backoff.
	Failures int `json:"failures,omitempty"`
	// Claim identifies the claim that returned this delivery, in a form
	// the engine defines; settling and releasing carry it back so the
	// engine acts only while that claim is still the entry's latest.
	Claim string `json:"-"`
}

// DeliveryState is where one event's forward to one destination stands.
type DeliveryState struct {
	Destination string    `json:"destination"`
	Status      string    `json:"status"` // DeliveryPending, DeliveryDelivered or DeliveryDead
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}
