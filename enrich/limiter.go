package enrich

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"
)

// Window is one rate limit: at most Limit requests in any Size-long span
// (a sliding window).
type Window struct {
	Limit int
	Size  time.Duration
}

// SleepFunc waits for d or until ctx ends, whichever is first, and returns
// ctx.Err() in the second case.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Sleep is the default SleepFunc: a real timer.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Limiter keeps the requests made with one API key inside the provider's
// windows, whoever makes them. A request counts from the moment it is
// admitted until Size after its answer came back, so requests that are
// slow in flight can never bunch up at the provider beyond the limit. The
// provider's own view (X-RateLimit-Remaining 0 with Reset, Retry-After on
// a 429) tightens it further.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	windows []Window
	span    time.Duration // the largest window
	now     func() time.Time
	sleep   SleepFunc

	mu       sync.Mutex
	done     []time.Time // answer times, ascending
	inflight int
	blocked  time.Time     // no request before this (provider said so)
	changed  chan struct{} // closed and replaced when a request finishes
}

// NewLimiter returns a limiter for windows. now and sleep default to the
// real clock.
func NewLimiter(windows []Window, now func() time.Time, sleep SleepFunc) *Limiter {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = Sleep
	}
	l := &Limiter{windows: slices.Clone(windows), now: now, sleep: sleep, changed: make(chan struct{})}
	for _, w := range windows {
		l.span = max(l.span, w.Size)
	}
	return l
}

// Hints is what a provider's answer says about its rate limit.
type Hints struct {
	Remaining  int           // X-RateLimit-Remaining; -1 when absent
	Reset      time.Time     // X-RateLimit-Reset; zero when absent
	RetryAfter time.Duration // Retry-After on a 429; 0 when absent
	Limited    bool          // the answer was 429
}

// Acquire blocks until a request may be sent, then admits it. The caller
// must call the returned function exactly once with what the answer said
// (Hints{Remaining: -1} when there was none).
func (l *Limiter) Acquire(ctx context.Context) (func(Hints), error) {
	for {
		l.mu.Lock()
		wait, byFlight := l.delayLocked(l.now())
		if wait <= 0 && !byFlight {
			l.inflight++
			l.mu.Unlock()
			return l.finish, nil
		}
		ch := l.changed
		l.mu.Unlock()
		if wait > 0 {
			if err := l.sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Delay says how long a request would wait now (0 when it would be
// admitted, or only has to wait for a request in flight).
func (l *Limiter) Delay() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, _ := l.delayLocked(l.now())
	return max(d, 0)
}

// delayLocked returns how long until a request fits every window, or
// byFlight when it can only fit after a request in flight has finished.
func (l *Limiter) delayLocked(now time.Time) (wait time.Duration, byFlight bool) {
	l.prune(now)
	wait = l.blocked.Sub(now)
	for _, w := range l.windows {
		i := sort.Search(len(l.done), func(i int) bool { return l.done[i].After(now.Add(-w.Size)) })
		inWin := len(l.done) - i
		over := l.inflight + inWin - w.Limit + 1 // requests that must age out first
		switch {
		case over <= 0:
		case over > inWin:
			byFlight = true
		default:
			wait = max(wait, l.done[i+over-1].Add(w.Size).Sub(now))
		}
	}
	return wait, byFlight
}

// prune drops answers older than the largest window.
func (l *Limiter) prune(now time.Time) {
	i := sort.Search(len(l.done), func(i int) bool { return l.done[i].After(now.Add(-l.span)) })
	if i > 0 {
		l.done = slices.Delete(l.done, 0, i)
	}
}

// finish records the answer of an admitted request.
func (l *Limiter) finish(h Hints) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.inflight--
	l.done = append(l.done, now)
	if h.Remaining == 0 && h.Reset.After(l.blocked) {
		l.blocked = h.Reset
	}
	if h.Limited {
		until := h.Reset
		if h.RetryAfter > 0 {
			until = now.Add(h.RetryAfter)
		}
		if until.IsZero() || !until.After(now) {
			until = now.Add(l.span / 60) // no usable hint: back off a little
		}
		if until.After(l.blocked) {
			l.blocked = until
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}
