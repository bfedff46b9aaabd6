package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// Errors the HTTP layer maps to statuses, beside the verification
// sentinels in errors.go.
var (
	ErrUnknownSource    = errors.New("unknown source")
	ErrMethodNotAllowed = errors.New("method not allowed")
	ErrRouteNotFound    = errors.New("not found")
	ErrBodyTooLarge     = errors.New("body too large")
	ErrBadRequest       = errors.New("bad request")
	// ErrInvalidQuery marks a bad request whose message, built by porch
	// from the caller's own query, is safe and useful to show in full.
	ErrInvalidQuery    = fmt.Errorf("%w: invalid query", ErrBadRequest)
	ErrUnauthenticated = errors.New("authentication required")
	ErrForbidden       = errors.New("forbidden")
	// ErrCSRF refuses a browser-authenticated state change without this
	// listener's CSRF token or from another origin.
	ErrCSRF = errors.New("forbidden: missing or invalid CSRF token, or cross-origin request")
	// Edge operations (ingress.go, admin_reload.go).
	ErrAddressNotAllowed = errors.New("client address not allowed")
	ErrRateLimited       = errors.New("rate limited; retry later")
	// ErrInvalidConfig refuses a reload; its message names YAML keys, never values.
	ErrInvalidConfig = errors.New("invalid config")
)

// statusOf is the one place that maps an error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrMissingSignature), errors.Is(err, ErrMalformedSignature),
		errors.Is(err, ErrBadSignature), errors.Is(err, ErrStaleTimestamp),
		errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrCSRF), errors.Is(err, ErrAddressNotAllowed):
		return http.StatusForbidden
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrInvalidConfig):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrUnknownSource), errors.Is(err, ErrRouteNotFound), errors.Is(err, inbox.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, inbox.ErrNotForwardable):
		return http.StatusConflict
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, inbox.ErrNotDurable), errors.Is(err, inbox.ErrClosed):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// publicMessage is what a client may read about err: the sentinel's own
// text for the errors we expect, nothing internal otherwise.
func publicMessage(status int, err error) string {
	switch status {
	case http.StatusInternalServerError:
		return "internal error"
	case http.StatusServiceUnavailable:
		return "not stored durably in time; retry later"
	}
	for _, s := range []error{ErrMissingSignature, ErrMalformedSignature, ErrBadSignature, ErrStaleTimestamp,
		ErrUnknownSource, ErrMethodNotAllowed, ErrRouteNotFound, ErrBodyTooLarge, ErrUnauthenticated,
		ErrForbidden, ErrCSRF, ErrAddressNotAllowed, ErrRateLimited, inbox.ErrNotFound, inbox.ErrNotForwardable, ErrBadRequest} {
		if errors.Is(err, s) {
			if s == ErrBadRequest && errors.Is(err, ErrInvalidQuery) {
				return err.Error() // our own words about the caller's query
			}
			return s.Error()
		}
	}
	if errors.Is(err, ErrInvalidConfig) { // admin-only; names YAML keys, never values
		return err.Error()
	}
	return http.StatusText(status)
}

// writeError answers err as JSON with the request id, and logs it at
// error level only when it is the server's fault.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeErrorTo(w, r, loggerFrom(r), err)
}

// writeErrorTo is writeError logging to log; it returns the bytes written.
func writeErrorTo(w http.ResponseWriter, r *http.Request, log logrus.FieldLogger, err error) int {
	status := statusOf(err)
	if status >= 500 {
		log.WithError(err).WithField(fieldStatus, status).Error("request failed")
	} else {
		log.WithError(err).WithField(fieldStatus, status).Debug("request refused")
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", http.MethodPost) // the ingest route's; routers name their own
	}
	if status == http.StatusUnauthorized && isAdmin(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="porch archive", charset="UTF-8"`)
	}
	return writeJSON(w, status, map[string]string{"error": publicMessage(status, err), "request_id": requestID(r)})
}

// writeJSON answers v as JSON with status and returns the bytes written.
func writeJSON(w http.ResponseWriter, status int, v any) int {
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
