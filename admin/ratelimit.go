package admin

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/porchgw/porch/httpserve"
	"golang.org/x/time/rate"
)

// Default per-token request rate on the admin listener's archive routes:
// enough for a person browsing and for the archive commands paging
// through results, far below what a script can fire.
const (
	defaultReadRate  = 10
	defaultReadBurst = 100
)

// tokenLimits rate-limits archive requests per token fingerprint. Only
// authenticated callers get a limiter, so the map holds at most one per
// configured token (it is emptied when the tokens change).
type tokenLimits struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	now   func() time.Time
	by    map[string]*rate.Limiter
}

// newTokenLimits returns nil (no limit) for a negative perSecond.
func newTokenLimits(perSecond float64, burst int, now func() time.Time) *tokenLimits {
	if perSecond < 0 {
		return nil
	}
	if perSecond == 0 {
		perSecond = defaultReadRate
	}
	if burst <= 0 {
		burst = defaultReadBurst
	}
	if now == nil {
		now = time.Now
	}
	return &tokenLimits{limit: rate.Limit(perSecond), burst: burst, now: now, by: map[string]*rate.Limiter{}}
}

// delay is how long the token fp must wait before this request; 0 means
// it may go ahead now, and the request is counted.
func (l *tokenLimits) delay(fp string) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.by[fp]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.by[fp] = lim
	}
	now := l.now()
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// reset forgets every token's limiter, for a new token list.
func (l *tokenLimits) reset() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.by)
}

// limited answers 429 with Retry-After (whole seconds, at least 1) when
// the caller's token is over its rate; otherwise it runs h. A refused
// request does no work and leaves no trail entry.
func (a *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = withReady(r, a.cfg.Ready)
		if fp := tokenOf(r); fp != "" {
			if d := a.limits.delay(fp); d > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
				writeError(w, r, httpserve.ErrRateLimited)
				return
			}
		}
		h(w, r)
	}
}
