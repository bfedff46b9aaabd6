package enrich_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/porchgw/porch/enrich"
)

// TestLimiterSlidingWindows admits requests from many goroutines on the
// real (bubbled) clock and checks every admission against both windows,
// counting a request from admission until its answer as in the window.
func TestLimiterSlidingWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wins := []enrich.Window{{Limit: 10, Size: time.Minute}, {Limit: 25, Size: 10 * time.Minute}}
		l := enrich.NewLimiter(wins, nil, nil)
		var mu sync.Mutex
		var admitted []time.Time
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for range 10 {
					done, err := l.Acquire(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					admitted = append(admitted, time.Now())
					mu.Unlock()
					// The API call in flight: 3 s on the bubble's fake
					// clock, during which the request counts in the windows.
					time.Sleep(3 * time.Second)
					done(enrich.Hints{Remaining: -1})
				}
			})
		}
		wg.Wait()
		for _, w := range wins {
			for _, at := range admitted {
				n := 0
				for _, other := range admitted {
					if !other.After(at) && other.After(at.Add(-w.Size)) {
						n++
					}
				}
				if n > w.Limit {
					t.Fatalf("%d admissions in the %s before %s, limit %d", n, w.Size, at, w.Limit)
				}
			}
		}
	})
}

func TestLimiterRetryAfterBlocksEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := enrich.NewLimiter([]enrich.Window{{Limit: 100, Size: time.Minute}}, nil, nil)
		start := time.Now()
		done, _ := l.Acquire(context.Background())
		done(enrich.Hints{Remaining: -1, Limited: true, RetryAfter: 42 * time.Second})
		if d := l.Delay(); d != 42*time.Second {
			t.Fatalf("Delay = %s, want 42s", d)
		}
		done, _ = l.Acquire(context.Background())
		done(enrich.Hints{Remaining: -1})
		if el := time.Since(start); el != 42*time.Second {
			t.Fatalf("next request after %s, want 42s", el)
		}
	})
}

func TestLimiterAcquireHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := enrich.NewLimiter([]enrich.Window{{Limit: 1, Size: time.Hour}}, nil, nil)
		done, _ := l.Acquire(context.Background())
		done(enrich.Hints{Remaining: -1})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := l.Acquire(ctx); err == nil {
			t.Fatal("Acquire admitted a request over the limit")
		}
	})
}
