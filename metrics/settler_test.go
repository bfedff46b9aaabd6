package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/inbox/inboxtest"
	"github.com/porchgw/porch/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSettlerCountsSettledAttempts drives a real store's outbox through
// retry, dead letter and ack via the metrics decorator.
func TestSettlerCountsSettledAttempts(t *testing.T) {
	db, err := badger.Open(badger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, iv := range []string{"a", "b"} {
		ev := &inbox.Event{Source: "koji", Provider: "koji", Type: "t", InterviewID: iv, Status: inbox.StatusAccepted,
			Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: []byte(iv), DedupKeys: []string{iv}, Destinations: []string{"app"}}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	reg := metrics.New()
	set := reg.SettlerWith(db)
	pending := inboxtest.Queued(t, db)
	if len(pending) != 2 {
		t.Fatalf("pending = %v", pending)
	}
	attempt := func(status int) *inbox.Attempt {
		return &inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Number: 1, Status: status, LatencyMS: 40}
	}
	if err := set.Retry(pending[0], time.Now(), attempt(503)); err != nil {
		t.Fatal(err)
	}
	if err := set.DeadLetter(pending[1], attempt(400), "permanent failure"); err != nil {
		t.Fatal(err)
	}
	pending = inboxtest.Queued(t, db)
	if err := set.Ack(pending[0], *attempt(200)); err != nil {
		t.Fatal(err)
	}
	// A settle the store refuses (already settled) is not counted.
	if err := set.Ack(pending[0], *attempt(200)); err == nil {
		t.Fatal("second ack of the same entry succeeded")
	}
	const want = `
# HELP porch_dead_letters_total Forwards given up after max_attempts (dead-lettered), per destination.
# TYPE porch_dead_letters_total counter
porch_dead_letters_total{destination="app"} 1
# HELP porch_forward_attempts_total Settled forward attempts per destination by outcome (delivered, retry, dead).
# TYPE porch_forward_attempts_total counter
porch_forward_attempts_total{destination="app",outcome="dead"} 1
porch_forward_attempts_total{destination="app",outcome="delivered"} 1
porch_forward_attempts_total{destination="app",outcome="retry"} 1
`
	if err := testutil.GatherAndCompare(reg.Gatherer(), strings.NewReader(want), "porch_dead_letters_total", "porch_forward_attempts_total"); err != nil {
		t.Error(err)
	}
}
