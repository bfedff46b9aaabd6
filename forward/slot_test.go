package forward

import (
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// slowAcks holds every Ack until release is closed.
type slowAcks struct {
	*badger.DB
	release chan struct{}
	mu      sync.Mutex
	waiting int
}

func (s *slowAcks) Ack(d inbox.Delivery, a inbox.Attempt) error {
	s.mu.Lock()
	s.waiting++
	s.mu.Unlock()
	<-s.release
	return s.DB.Ack(d, a)
}

func (s *slowAcks) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// TestRequestSlotFreedBeforeOutcomeIsRecorded: at concurrency 1 the next
// request goes while the previous one's outcome is still being written,
// and the one being written is not sent again meanwhile.
func TestRequestSlotFreedBeforeOutcomeIsRecorded(t *testing.T) {
	s := newSink(t, nil)
	db := openDB(t, t.TempDir(), nil)
	ids := []string{accept(t, db, "iv-a", `{"n":1}`, "app"), accept(t, db, "iv-b", `{"n":2}`, "app")}
	set := &slowAcks{DB: db, release: make(chan struct{})}
	dc := testDest("app", s.URL)
	dc.Concurrency = 1
	d, _ := startWith(t, Config{Destinations: []Destination{dc}, Poll: 5 * time.Millisecond, HTTPRetries: -1}, db, set, nil)
	released := false
	defer func() { // on failure, let the held Acks finish so Run can stop
		if !released {
			close(set.release)
		}
	}()

	waitFor(t, "both requests sent while the first outcome is unrecorded", func() bool { return set.Waiting() == 2 })
	waitPasses(t, d, 5)
	if n := len(s.Hits()); n != 2 {
		t.Fatalf("sink got %d requests, want 2 (nothing re-sent while its outcome is being recorded)", n)
	}
	close(set.release)
	released = true
	for _, id := range ids {
		waitFor(t, "delivered", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDelivered })
	}
	waitPasses(t, d, 5)
	if n := len(s.Hits()); n != 2 {
		t.Errorf("sink got %d requests after the outcomes were recorded, want 2", n)
	}
}
