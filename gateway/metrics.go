package gateway

import (
	"slices"
	"time"
)

// Delivery outcomes reported in Outcome.Result.
const (
	ResultAccepted      = "accepted"       // new authentic event archived
	ResultDuplicate     = "duplicate"      // authentic, matched the dedup window
	ResultQuarantined   = "quarantined"    // authentic but unparseable: archived, not forwarded
	ResultControl       = "control"        // Koji endpoint check answered 200, not archived
	ResultRejected      = "rejected"       // signature or timestamp refused (401)
	ResultForbidden     = "forbidden"      // client address outside the source's allowlist (403)
	ResultRateLimited   = "rate_limited"   // over the source's rate limit (429)
	ResultTooLarge      = "too_large"      // body over the limit (413)
	ResultUnavailable   = "unavailable"    // not durable in time (503)
	ResultUnknownSource = "unknown_source" // no such source (404)
	ResultBadRequest    = "bad_request"    // any other 4xx
	ResultError         = "error"          // any other 5xx
)

// UnknownSource is the Outcome.Source of requests to an unconfigured
// source: the path's name is attacker-chosen and must not become a label.
const UnknownSource = "_unknown"

// OtherEvent is the Outcome.Event of an authentic delivery whose type its
// provider does not document (or that has none): the type is written by
// the sender, and a label per made-up type would let anyone holding a
// signed body, or a provider inventing types, grow the metrics without
// bound.
const OtherEvent = "other"

// Outcome is one ingest request's result, reported to Config.Observe
// once the answer has been written, before it is flushed: a client that
// has its answer finds it counted.
type Outcome struct {
	Source      string        // configured source name, or UnknownSource
	Event       string        // a documented event type or OtherEvent; "" unless the delivery was authentic
	Result      string        // one of the Result constants
	Status      int           // HTTP status answered
	Duration    time.Duration // from the request reaching the handler to the answer
	SigMode     string        // ModeRaw or ModeCanonical; "" unless authentic
	SecretIndex int           // index of the secret that matched; -1 unless authentic
	Duplicate   bool          // Result == ResultDuplicate
}

// eventLabel is event if def documents it, OtherEvent otherwise.
func eventLabel(def Definition, event string) string {
	if slices.Contains(def.Events, event) {
		return event
	}
	return OtherEvent
}
