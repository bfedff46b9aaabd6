package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// Errors the admin listener answers, beside httpserve's.
var (
	ErrUnauthenticated = errors.New("authentication required")
	ErrForbidden       = errors.New("forbidden")
	// ErrCSRF refuses a browser-authenticated state change without this
	// listener's CSRF token or from another origin.
	ErrCSRF = errors.New("forbidden: missing or invalid CSRF token, or cross-origin request")
	// ErrInvalidQuery marks a bad request whose message, built by porch
	// from the caller's own query, is safe and useful to show in full.
	ErrInvalidQuery = fmt.Errorf("%w: invalid query", httpserve.ErrBadRequest)
	// ErrInvalidConfig refuses a reload; its message names YAML keys, never values.
	ErrInvalidConfig = errors.New("invalid config")
)

// answers is the one place that maps the admin listener's errors to
// statuses and to what a client may read.
var answers = httpserve.Rules{
	{Err: ErrUnauthenticated, Status: http.StatusUnauthorized},
	{Err: ErrForbidden, Status: http.StatusForbidden},
	{Err: ErrCSRF, Status: http.StatusForbidden},
	httpserve.RuleRateLimited,
	{Err: ErrInvalidConfig, Status: http.StatusUnprocessableEntity, Verbatim: true},
	httpserve.RuleRouteNotFound,
	{Err: inbox.ErrNotFound, Status: http.StatusNotFound},
	// Says why, in porch's words: the event id and destination names.
	{Err: inbox.ErrNotForwardable, Status: http.StatusConflict, Verbatim: true},
	{Err: ErrDestinationConfigured, Status: http.StatusConflict, Verbatim: true},
	httpserve.RuleMethodNotAllowed,
	{Err: ErrInvalidQuery, Status: http.StatusBadRequest, Verbatim: true},
	httpserve.RuleBadRequest,
	{Err: inbox.ErrNotDurable, Status: http.StatusServiceUnavailable},
	{Err: inbox.ErrClosed, Status: http.StatusServiceUnavailable},
	// What the store engine leaves to other tools (a PostgreSQL backup):
	// its message says which.
	{Err: inbox.ErrUnsupported, Status: http.StatusNotImplemented, Verbatim: true},
}

// readyKey holds, in a request's context, the store's readiness check.
type readyKey struct{}

// withReady gives r the store's readiness check, for storeDown.
func withReady(r *http.Request, ready func() error) *http.Request {
	if ready == nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), readyKey{}, ready))
}

// errStoreDown is a failure of the store while it cannot serve at all (a
// database that went away): the client may retry, as after a 503.
var errStoreDown = fmt.Errorf("store unavailable: %w", inbox.ErrNotDurable)

// storeDown turns a failure the archive would answer 500 into one it
// answers 503 when the store is not ready: reads fail that way while
// the database is down, which is no fault of porch's.
func storeDown(r *http.Request, err error) error {
	if answers.Status(err) != http.StatusInternalServerError {
		return err
	}
	if ready, _ := r.Context().Value(readyKey{}).(func() error); ready != nil && ready() != nil {
		return fmt.Errorf("%w: %w", errStoreDown, err)
	}
	return err
}

// writeError answers err as JSON with the request id. A 401 names the
// realm, so that a browser asks for the token.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = storeDown(r, err)
	if answers.Status(err) == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="porch archive", charset="UTF-8"`)
	}
	answers.Write(w, r, err)
}
