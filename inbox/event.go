package inbox

import (
	"time"
)

// Status is where an archived event stands with respect to forwarding.
type Status string

// Event statuses.
const (
	// StatusAccepted is an authentic, parsed event; it is forwarded to
	// every destination it matched when it was accepted.
	StatusAccepted Status = "accepted"
	// StatusQuarantined is an authentic delivery whose body could not be
	// parsed. It is archived byte for byte and never forwarded.
	StatusQuarantined Status = "quarantined"
	// StatusDuplicate is a delivery answered as the duplicate of an
	// earlier event (DuplicateOf) whose bytes differ from every
	// delivery archived before: archived so that no payload received is
	// lost, and never forwarded. See DuplicateCopy.
	StatusDuplicate Status = "duplicate"
)

// Statuses are the event statuses, for filters to name.
var Statuses = []Status{StatusAccepted, StatusQuarantined, StatusDuplicate}

// Origin says how an event came to be in the archive.
type Origin string

// Event origins.
const (
	// OriginProvider is a delivery whose provider signature verified.
	OriginProvider Origin = "provider"
	// OriginReconcile is an event porch created itself after finding,
	// through the provider's API, an interview the archive lacked. It
	// carries no provider signature.
	OriginReconcile Origin = "reconcile"
)

// Verification is the evidence that a delivery is authentic. It never
// holds a secret: only the index of the one that matched.
type Verification struct {
	// Mode is "raw" when the signature matched the bytes received,
	// "canonical" when it matched only a JavaScript-compatible
	// re-serialisation of them, and "none" for reconciled events.
	Mode string `json:"mode"`
	// SecretIndex is the position, in the source's configured secret
	// list, of the secret that matched.
	SecretIndex int `json:"secret_index"`
	// Timestamp is the signed timestamp exactly as sent: Gather's t, or
	// the top-level timestamp of a Koji body (signed with the body),
	// unquoted; empty when there is none.
	Timestamp string `json:"timestamp,omitempty"`
	// TimestampUnit is how Timestamp was read: "s", "ms" or "rfc3339".
	TimestampUnit string `json:"timestamp_unit,omitempty"`
	// SkewMillis is receive time minus signed time, in milliseconds.
	SkewMillis int64 `json:"skew_ms,omitempty"`
}

// Event is one archived delivery: the raw bytes, the facts read from
// their signed content, and the evidence that they are authentic.
//
// The gateway fills everything but the fields marked "set by Accept".
type Event struct {
	ID  string `json:"id"`  // set by Accept: a ULID, time-ordered
	Seq uint64 `json:"seq"` // set by Accept: position in the archive chain

	Source      string `json:"source"`   // configured source name, e.g. "koji"
	Provider    string `json:"provider"` // "koji" or "gather"
	Type        string `json:"type"`     // the provider's event name
	InterviewID string `json:"interview_id,omitempty"`
	Status      Status `json:"status"`
	// QuarantineReason says why Accept quarantined an event whose body
	// parsed; empty otherwise.
	QuarantineReason string `json:"quarantine_reason,omitempty"`
	Origin           Origin `json:"origin"`

	ReceivedAt  time.Time           `json:"received_at"`
	RemoteAddr  string              `json:"remote_addr,omitempty"`
	RequestID   string              `json:"request_id,omitempty"`
	Headers     map[string][]string `json:"headers,omitempty"` // selected request headers
	ContentType string              `json:"content_type,omitempty"`
	BodySHA256  string              `json:"body_sha256"` // lowercase hex
	BodySize    int                 `json:"body_size"`

	Verification Verification `json:"verification"`
	// DedupKeys are the keys this event claimed in the dedup window, most
	// specific first. A later delivery matching any of them is a duplicate.
	DedupKeys []string `json:"dedup_keys,omitempty"`
	// Destinations are the names of the destinations the event was
	// queued for when it was accepted.
	Destinations []string `json:"destinations,omitempty"`
	// DuplicateOf is, for an event of StatusDuplicate, the id of the
	// event whose duplicate it was answered as.
	DuplicateOf string `json:"duplicate_of,omitempty"`

	PrevHash string `json:"prev_hash"` // set by Accept: hash of the previous event in the chain
	Hash     string `json:"hash"`      // set by Accept: ChainHash of this event

	// Body is the exact bytes received. It is stored apart from the
	// metadata and is only filled by the calls that say so.
	Body []byte `json:"-"`
}

// Result is what Accept answers for one delivery.
type Result struct {
	// ID is the new event's id, or for a duplicate the id of the event
	// that first claimed the dedup key.
	ID string `json:"id"`
	// Duplicate is true when the delivery matched an event still in the
	// dedup window. Nothing new was archived or queued.
	Duplicate bool `json:"duplicate"`
}

// Sightings counts the duplicate deliveries seen of one event.
type Sightings struct {
	Count  int        `json:"count"`
	First  time.Time  `json:"first,omitzero"`
	Last   time.Time  `json:"last,omitzero"`
	Recent []Sighting `json:"recent,omitempty"` // the last few, oldest first
}

// Sighting is one duplicate delivery.
type Sighting struct {
	At         time.Time `json:"at"`
	RemoteAddr string    `json:"remote_addr,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	BodySHA256 string    `json:"body_sha256"`
	DedupKey   string    `json:"dedup_key"` // as stored: one longer than 512 bytes as its hash
}

// Rejection is one entry of the bounded log of requests that were not
// archived as authentic: bad or missing signatures, and control requests
// such as Koji's endpoint check. It never holds the body.
type Rejection struct {
	Seq        uint64              `json:"seq"` // set by LogRejection
	At         time.Time           `json:"at"`
	Kind       string              `json:"kind"` // "rejected" or "control"
	Source     string              `json:"source"`
	Reason     string              `json:"reason"`
	Status     int                 `json:"status"` // HTTP status answered
	RemoteAddr string              `json:"remote_addr,omitempty"`
	RequestID  string              `json:"request_id,omitempty"`
	Headers    map[string][]string `json:"headers,omitempty"`
	BodySHA256 string              `json:"body_sha256"`
	BodySize   int                 `json:"body_size"`
}
