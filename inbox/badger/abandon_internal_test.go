package badger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// Abandon goes through the whole outbox however small its chunks: ones
// that stop at the keys they may read, ones that stop at the entries
// they may take, and ones past a claimed entry, which is counted once.
func TestAbandonChunks(t *testing.T) {
	for _, b := range []chunkBounds{{take: 1, scan: 1}, {take: 2, scan: 3}, {take: 3, scan: 100}, {take: 100, scan: 2}, {take: abandonChunk, scan: abandonScan}} {
		t.Run(fmt.Sprintf("take %d scan %d", b.take, b.scan), func(t *testing.T) {
			db := openTest(t)
			const n = 7
			for i := range n {
				ev := &inbox.Event{Source: "koji", Provider: "koji", Type: "x", InterviewID: fmt.Sprint("iv-", i), Status: inbox.StatusAccepted,
					ReceivedAt: time.Now(), Body: []byte(`{}`), Destinations: []string{"keep", "gone", "also"}}
				if _, err := db.Accept(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now().Add(time.Hour)
			if got, _, err := db.Claim(now, map[string]int{"gone": 1}, time.Minute); err != nil || len(got) != 1 {
				t.Fatalf("claim: %v, %v", got, err)
			}
			got, err := db.abandon("gone", inbox.AbandonRequest{By: "fp", Reason: "removed"}, now, b)
			if err != nil || got != (inbox.Abandoned{DeadLettered: n - 1, Leased: 1}) {
				t.Fatalf("abandon: %+v, %v; want %d dead-lettered, 1 leased", got, err, n-1)
			}
			left := map[string]int{}
			p, err := db.Pending()
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range p {
				left[d.Destination]++
			}
			if left["gone"] != 1 || left["keep"] != n || left["also"] != n {
				t.Errorf("pending by destination: %v", left)
			}
		})
	}
}

// An entry left for its claim and then retried by it, to a key further
// on, is taken when the scan reaches it there, and no longer counted as
// leased.
func TestAbandonRetriedAfterSkip(t *testing.T) {
	db := openTest(t)
	for i := range 3 {
		ev := &inbox.Event{Source: "koji", Provider: "koji", Type: "x", InterviewID: fmt.Sprint("iv-", i), Status: inbox.StatusAccepted,
			ReceivedAt: time.Now(), Body: []byte(`{}`), Destinations: []string{"gone"}}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Add(time.Hour)
	claimed, _, err := db.Claim(now, map[string]int{"gone": 1}, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	r, b := inbox.AbandonRequest{By: "fp", Reason: "removed"}, chunkBounds{take: 1, scan: 1}
	leased := map[string]bool{}
	n, next, err := db.abandonChunk("gone", r, now, b, nil, leased)
	if err != nil || n != 0 || len(leased) != 1 {
		t.Fatalf("first chunk: took %d, leased %v, %v; want the claimed entry left", n, leased, err)
	}
	if err := db.Retry(claimed[0], now.Add(30*time.Minute), &inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 503}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for next != nil {
		n, next, err = db.abandonChunk("gone", r, now, b, next, leased)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 3 || len(leased) != 0 {
		t.Errorf("took %d, leased %v; want all 3, none leased", total, leased)
	}
}
