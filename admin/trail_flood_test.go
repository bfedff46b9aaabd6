package admin_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/sirupsen/logrus"
)

// syncBuffer is a log sink the store's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An auditor cannot erase the record of an export by searching: far more
// searches than the trail keeps push out only older searches, and each
// drop is counted and logged.
func TestSearchesCannotPushExportsOffTheTrail(t *testing.T) {
	const capacity = 20
	var logs syncBuffer
	log := logrus.New()
	log.SetOutput(&logs)
	log.SetFormatter(&logrus.JSONFormatter{})
	// The store's clock stands still, so every drop falls in one warning
	// interval whatever the machine's speed.
	frozen := time.Now()
	env := startFullAdmin(t, badger.Options{TrailSearchSize: capacity, Logger: log, Now: func() time.Time { return frozen }},
		func(c *admin.Config) { c.ReadRate = -1 }) // the searches come from a script
	id := env.ids[2]
	env.deadLetter(t, env.ids[4])
	for _, p := range []string{"/api/v1/export?since=2026-11-02", "/api/v1/events/" + id + "/raw?download=1", "/api/v1/deadletters"} {
		if resp, body := env.get(t, p, bearerAuth(auditorToken)); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	for i := range 5 * capacity {
		if resp, body := env.get(t, "/api/v1/events?source=koji", bearerAuth(auditorToken)); resp.StatusCode != http.StatusOK {
			t.Fatalf("search %d: %d %s", i, resp.StatusCode, body)
		}
	}
	list, err := env.db.AccessTrail(0, 10*capacity)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, a := range list {
		actions[a.Action]++
	}
	if actions["export"] != 1 || actions["download"] != 1 || actions["deadletters"] != 1 {
		t.Errorf("sensitive reads on the trail: %v", actions)
	}
	if actions["search"] != capacity {
		t.Errorf("searches kept: %d, want %d", actions["search"], capacity)
	}
	// The drop is a metric on the real /metrics route, and a warning.
	_, metrics := env.get(t, "/metrics")
	if want := `porch_access_trail_dropped_total{class="search"} 80`; !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %q:\n%s", want, metrics)
	}
	if !strings.Contains(metrics, `porch_access_trail_dropped_total{class="sensitive"} 0`) {
		t.Errorf("metrics lack the sensitive class")
	}
	out := logs.String()
	if n := strings.Count(out, "access trail full"); n != 1 {
		t.Errorf("%d drop warnings, want 1 (rate-limited):\n%s", n, out)
	}
	if !strings.Contains(out, `"class":"search"`) || !strings.Contains(out, `"level":"warning"`) {
		t.Errorf("drop warning: %s", out)
	}
	if strings.Contains(out, auditorToken) {
		t.Error("a token reached the log")
	}
}
