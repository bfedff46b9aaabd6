package enrich

import (
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on.
var (
	// ErrRateLimited means the key's rate limit (local or the
	// provider's) would make the caller wait longer than it may block;
	// a *DeferredError carries when to try again.
	ErrRateLimited = errors.New("rate limited")
	// errBadAnswer means a 2xx answer was not the documented JSON.
	errBadAnswer = errors.New("unreadable answer")
)

// APIError is a non-2xx answer from a provider's API. It holds what the
// provider said, never the request's credentials.
type APIError struct {
	Status    int    // HTTP status
	Code      string // the provider's error code, e.g. RATE_LIMIT_EXCEEDED
	Message   string
	RequestID string // the provider's meta.requestId, when given
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("api status %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Retryable reports whether the same request may succeed later: 429 and
// 5xx only.
func (e *APIError) Retryable() bool { return e.Status == 429 || e.Status >= 500 }

// DeferredError says a request was not sent because of the rate limit,
// and when it could be.
type DeferredError struct{ Until time.Time }

func (e *DeferredError) Error() string {
	return "rate limited until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap makes errors.Is(err, ErrRateLimited) true.
func (e *DeferredError) Unwrap() error { return ErrRateLimited }

// retryable reports whether err is worth another try: 429, 5xx, network
// errors and timeouts; not 4xx, unreadable answers or a cancelled caller.
func retryable(err error) bool {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		return ae.Retryable()
	case errors.Is(err, errBadAnswer), errors.Is(err, ErrRateLimited):
		return false
	}
	return true
}
