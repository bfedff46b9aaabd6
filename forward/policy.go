package forward

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryableFunc decides whether a failed attempt (no 2xx) may be retried.
// status is 0 when no response came; err is the transport error, if any.
type RetryableFunc func(status int, err error) bool

// DefaultRetryable retries timeouts, connection errors, 408, 429 and 5xx;
// every other status is permanent.
func DefaultRetryable(status int, err error) bool {
	if err != nil || status == 0 {
		return true
	}
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// BackoffFunc returns how long to wait before the next attempt after
// failures consecutive failed attempts (failures >= 1). retryAfter is the
// destination's Retry-After, 0 when it sent none.
type BackoffFunc func(b BackoffConfig, failures int, retryAfter time.Duration) time.Duration

// maxRetryAfter caps how far a Retry-After can push an attempt.
const maxRetryAfter = 24 * time.Hour

// DefaultBackoff doubles from b.Initial up to b.Max with "equal jitter"
// (a uniform pick in the upper half of the step), and never waits less
// than the destination's Retry-After (capped at 24h).
func DefaultBackoff(b BackoffConfig, failures int, retryAfter time.Duration) time.Duration {
	d := b.Initial
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if d > 1 {
		d = d/2 + rand.N(d/2+1)
	}
	return max(d, min(retryAfter, maxRetryAfter))
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. It returns 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // compared before multiplying, which would overflow
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}
