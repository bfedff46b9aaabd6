package gateway

import (
	"errors"
	"net/http"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// Errors the ingest listener answers, beside the verification sentinels
// in errors.go and httpserve's.
var (
	ErrUnknownSource     = errors.New("unknown source")
	ErrBodyTooLarge      = errors.New("body too large")
	ErrAddressNotAllowed = errors.New("client address not allowed")
)

// answers is the one place that maps the ingest listener's errors to
// statuses and to what a client may read.
var answers = httpserve.Rules{
	{Err: ErrMissingSignature, Status: http.StatusUnauthorized},
	{Err: ErrMalformedSignature, Status: http.StatusUnauthorized},
	{Err: ErrBadSignature, Status: http.StatusUnauthorized},
	{Err: ErrStaleTimestamp, Status: http.StatusUnauthorized},
	{Err: ErrAddressNotAllowed, Status: http.StatusForbidden},
	httpserve.RuleRateLimited,
	{Err: ErrUnknownSource, Status: http.StatusNotFound},
	httpserve.RuleRouteNotFound,
	httpserve.RuleMethodNotAllowed,
	{Err: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge},
	httpserve.RuleBadRequest,
	{Err: inbox.ErrNotDurable, Status: http.StatusServiceUnavailable},
	{Err: inbox.ErrClosed, Status: http.StatusServiceUnavailable},
}

// statusOf is the status answered for err.
func statusOf(err error) int { return answers.Status(err) }

// writeErrorTo answers err as JSON with the request id, logging to log;
// it returns the bytes written.
func writeErrorTo(w http.ResponseWriter, r *http.Request, log logrus.FieldLogger, err error) int {
	return answers.WriteTo(w, r, log, err)
}
