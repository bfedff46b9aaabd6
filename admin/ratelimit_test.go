package admin_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Each token has its own request rate on the archive API and pages: over
// it the answer is a JSON 429 with Retry-After, no trail entry is
// written, and other tokens are not held up.
func TestArchiveRateLimitIsPerToken(t *testing.T) {
	const other = "second-auditor-token"
	clock := &testClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
	env := startAdmin(t, func(c *admin.Config) {
		c.AuditorTokens = append(c.AuditorTokens, other)
		c.ReadRate, c.ReadBurst, c.Now = 0.5, 3, clock.Now
	})
	for i := range 3 {
		if resp, body := env.get(t, "/api/v1/events", bearerAuth(auditorToken)); resp.StatusCode != http.StatusOK {
			t.Fatalf("search %d: %d %s", i, resp.StatusCode, body)
		}
	}
	trailed := newestSeq(t, env.db)
	for _, c := range []struct {
		path string
		auth reqOpt
	}{
		{"/api/v1/events", bearerAuth(auditorToken)},
		{"/", basicAuth(auditorToken)},
		{"/api/v1/export", bearerAuth(auditorToken)},
	} {
		resp, body := env.get(t, c.path, c.auth)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s over the rate: %d %s", c.path, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Retry-After"); got != "2" {
			t.Errorf("%s: Retry-After %q, want 2", c.path, got)
		}
		var e struct{ Error, RequestID string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: not a JSON error: %q", c.path, body)
		}
	}
	if newestSeq(t, env.db) != trailed {
		t.Error("a refused request was trailed")
	}
	if resp, body := env.get(t, "/api/v1/events", bearerAuth(other)); resp.StatusCode != http.StatusOK {
		t.Errorf("another token was held up: %d %s", resp.StatusCode, body)
	}
	clock.Add(2 * time.Second)
	if resp, body := env.get(t, "/api/v1/events", bearerAuth(auditorToken)); resp.StatusCode != http.StatusOK {
		t.Errorf("after Retry-After: %d %s", resp.StatusCode, body)
	}
	// Unauthenticated requests are refused for their missing token, not
	// counted against anyone.
	if resp, _ := env.get(t, "/api/v1/events"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}
