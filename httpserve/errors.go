package httpserve

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/sirupsen/logrus"
)

// Errors both listeners answer, beside each listener's own.
var (
	ErrMethodNotAllowed = errors.New("method not allowed")
	ErrRouteNotFound    = errors.New("not found")
	ErrBadRequest       = errors.New("bad request")
	ErrRateLimited      = errors.New("rate limited; retry later")
)

// Rule answers the errors that match Err (errors.Is) with Status. The
// client reads Err's own text, or with Verbatim the whole error's (for
// errors porch words itself about the caller's input, never internals).
type Rule struct {
	Err      error
	Status   int
	Verbatim bool
}

// Rules is one listener's mapping from errors to statuses, in order: the
// first rule that matches answers. An error no rule matches is the
// server's fault (500). Whatever the rule, a 500 reads "internal error"
// and a 503 unavailableMessage.
type Rules []Rule

// unavailableMessage is what a client reads about any 503.
const unavailableMessage = "not stored durably in time; retry later"

// The rules for this package's errors, for the listeners' tables.
var (
	RuleRateLimited      = Rule{Err: ErrRateLimited, Status: http.StatusTooManyRequests}
	RuleRouteNotFound    = Rule{Err: ErrRouteNotFound, Status: http.StatusNotFound}
	RuleMethodNotAllowed = Rule{Err: ErrMethodNotAllowed, Status: http.StatusMethodNotAllowed}
	RuleBadRequest       = Rule{Err: ErrBadRequest, Status: http.StatusBadRequest}
)

// base answers the errors this package's own handlers write.
var base = Rules{RuleRateLimited, RuleRouteNotFound, RuleMethodNotAllowed, RuleBadRequest}

// Answer is the status of err and what a client may read about it.
func (rs Rules) Answer(err error) (status int, message string) {
	for _, r := range rs {
		if errors.Is(err, r.Err) {
			status, message = r.Status, r.Err.Error()
			if r.Verbatim {
				message = err.Error()
			}
			break
		}
	}
	switch status {
	case 0, http.StatusInternalServerError:
		return http.StatusInternalServerError, "internal error"
	case http.StatusServiceUnavailable:
		return status, unavailableMessage
	}
	return status, message
}

// Status is the status of err.
func (rs Rules) Status(err error) int {
	s, _ := rs.Answer(err)
	return s
}

// Write answers err as JSON with the request id, and logs it at error
// level only when it is the server's fault.
func (rs Rules) Write(w http.ResponseWriter, r *http.Request, err error) {
	rs.WriteTo(w, r, LoggerFrom(r), err)
}

// WriteTo is Write logging to log; it returns the bytes written.
func (rs Rules) WriteTo(w http.ResponseWriter, r *http.Request, log logrus.FieldLogger, err error) int {
	status, message := rs.Answer(err)
	if status >= 500 {
		log.WithError(err).WithField(FieldStatus, status).Error("request failed")
	} else {
		log.WithError(err).WithField(FieldStatus, status).Debug("request refused")
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	return WriteJSON(w, status, map[string]string{"error": message, "request_id": RequestID(r)})
}

// WriteJSON answers v as JSON with status and returns the bytes written.
func WriteJSON(w http.ResponseWriter, status int, v any) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	// A known length lets the answer be flushed before the access-log
	// line is made, without chunked encoding.
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	n, _ := w.Write(b.Bytes())
	return n
}
