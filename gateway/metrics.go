package gateway

import (
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/inbox"
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
// once the answer has been written.
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

// observed wraps the ingest handler so that Config.Observe hears about
// every request once, after the answer.
func (s *Server) observed(h http.HandlerFunc) http.Handler {
	if s.cfg.Observe == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		var a acceptance
		if st := stateOf(r); st != nil {
			a = st.accepted
		}
		s.cfg.Observe(s.outcome(mux.Vars(r)["source"], sw.status, a, time.Since(start)))
	})
}

func (s *Server) outcome(name string, status int, a acceptance, d time.Duration) Outcome {
	o := Outcome{Source: UnknownSource, Status: status, Duration: d, SecretIndex: -1, Result: resultOf(status)}
	src, ok := s.source(name)
	if ok {
		o.Source = name
	}
	if a.ev == nil || !ok {
		return o
	}
	o.Event, o.SigMode, o.SecretIndex = eventLabel(src.def, a.ev.Type), a.ev.Verification.Mode, a.ev.Verification.SecretIndex
	switch {
	case a.res.Duplicate:
		o.Result, o.Duplicate = ResultDuplicate, true
	case a.ev.Status == inbox.StatusQuarantined:
		o.Result = ResultQuarantined
	default:
		o.Result = ResultAccepted
	}
	return o
}

// eventLabel is event if def documents it, OtherEvent otherwise.
func eventLabel(def Definition, event string) string {
	if slices.Contains(def.Events, event) {
		return event
	}
	return OtherEvent
}

// resultOf names an answer the handler did not annotate.
func resultOf(status int) string {
	switch {
	case status == http.StatusOK:
		return ResultControl
	case status == http.StatusUnauthorized:
		return ResultRejected
	case status == http.StatusForbidden:
		return ResultForbidden
	case status == http.StatusTooManyRequests:
		return ResultRateLimited
	case status == http.StatusRequestEntityTooLarge:
		return ResultTooLarge
	case status == http.StatusServiceUnavailable:
		return ResultUnavailable
	case status == http.StatusNotFound:
		return ResultUnknownSource
	case status >= 500:
		return ResultError
	}
	return ResultBadRequest
}
