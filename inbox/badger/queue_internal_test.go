package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"golang.org/x/sync/semaphore"
)

// Callers that give up while the disk is stalled leave their requests
// queued for the writer, bodies and all; the queue holds no more body
// bytes than its bound however many give up, and gives the room back
// once the writer has been through them.
func TestStalledWriterQueueIsBoundedInBytes(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const bound = 4 << 10
	db.queued, db.queuedMax = semaphore.NewWeighted(bound), bound
	entered, release := make(chan struct{}), make(chan struct{})
	first := true
	db.beforeCommit = func() {
		if first {
			first = false
			entered <- struct{}{}
			<-release
		}
	}
	body := func(n int) []byte {
		return append(fmt.Appendf(nil, `{"n":%d,"pad":"`, n), append(bytes.Repeat([]byte("x"), 1000), `"}`...)...)
	}
	ev := func(n int) *inbox.Event {
		return &inbox.Event{Source: "koji", Provider: "koji", Type: "x", Status: inbox.StatusAccepted, ReceivedAt: time.Now(),
			DedupKeys: []string{fmt.Sprint("k", n)}, Body: body(n)}
	}
	firstDone := make(chan error, 1)
	go func() { _, err := db.Accept(context.Background(), ev(0)); firstDone <- err }()
	<-entered // the writer is stalled in its commit, holding delivery 0's room

	for i := 1; i <= 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := db.Accept(ctx, ev(i))
		cancel()
		if !errors.Is(err, inbox.ErrNotDurable) {
			t.Fatalf("delivery %d while the writer is stalled: %v, want ErrNotDurable", i, err)
		}
	}
	if n := len(db.acceptCh); n*1000 > bound {
		t.Errorf("%d bodies of about 1 KB queued behind a stalled writer, over the %d-byte bound", n, bound)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if _, err := db.Accept(context.Background(), ev(99)); err != nil {
		t.Fatalf("after the writer caught up: %v (queue room not given back?)", err)
	}
}
