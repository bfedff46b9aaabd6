package inbox

import (
	"encoding/json"
	"time"
)

// Enrichment statuses.
const (
	// EnrichOK: the full record was fetched and is forwarded.
	EnrichOK = "ok"
	// EnrichProcessing: the provider is still preparing the record
	// (Gather summaryStatus "processing"); a re-fetch is scheduled.
	EnrichProcessing = "processing"
	// EnrichIncomplete: the record never finished processing within the
	// configured wait; the last one fetched is forwarded as it was.
	EnrichIncomplete = "incomplete"
	// EnrichFailed: the provider API kept failing. Depending on the
	// source's on_failure the event is forwarded without the record, or
	// held and retried.
	EnrichFailed = "failed"
)

// Enrichment is what porch fetched from a provider's API for one event,
// kept so that auditors see exactly what was forwarded. It never holds
// an API key.
type Enrichment struct {
	EventID     string `json:"event_id"`
	Source      string `json:"source"`
	InterviewID string `json:"interview_id"`
	Status      string `json:"status"` // EnrichOK, EnrichProcessing, EnrichIncomplete or EnrichFailed
	// Interview is the record as the provider returned it (the data
	// member of Gather's envelope; Koji's whole body); empty when none
	// was fetched.
	Interview json.RawMessage `json:"interview,omitempty"`
	FetchedAt time.Time       `json:"fetched_at,omitzero"` // when Interview was fetched
	FirstAt   time.Time       `json:"first_at"`            // first fetch attempt
	NextAt    time.Time       `json:"next_at,omitzero"`    // next fetch, while processing or held
	Attempts  int             `json:"attempts"`            // fetches made (each may retry inside)
	Refetches int             `json:"refetches,omitempty"` // fetches that answered "processing"
	LastError string          `json:"last_error,omitempty"`
	// ProviderRequestID is the provider's meta.requestId of the last
	// answer, for support tickets.
	ProviderRequestID string    `json:"provider_request_id,omitempty"`
	UpdatedAt         time.Time `json:"updated_at"`
}
