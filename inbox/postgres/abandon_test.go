package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// Abandon takes a destination's rows a chunk per transaction until none
// is left but the leased, whatever the chunk size (one that divides the
// rows exactly included), and leaves other destinations' rows alone.
func TestAbandonChunks(t *testing.T) {
	for _, chunk := range []int{1, 2, 3, 6, abandonChunk} {
		t.Run(fmt.Sprint("chunk ", chunk), func(t *testing.T) {
			db := mustOpen(t, testURL(t), Options{})
			const n = 7
			for i := range n {
				queueEvent(t, db, fmt.Sprint("iv-", i), "keep", "gone")
			}
			now := time.Now().Add(time.Hour)
			if got, _ := mustClaim(t, db, now, map[string]int{"gone": 1}, time.Minute); len(got) != 1 {
				t.Fatalf("claim: %v", ids(got))
			}
			got, err := db.abandon("gone", inbox.AbandonRequest{By: "fp", Reason: "removed"}, now, chunk)
			if err != nil || got != (inbox.Abandoned{DeadLettered: n - 1, Leased: 1}) {
				t.Fatalf("abandon: %+v, %v; want %d dead-lettered, 1 leased", got, err, n-1)
			}
			p, err := db.Pending(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			byDest := map[string]int{}
			for _, d := range p {
				byDest[d.Destination]++
			}
			if byDest["keep"] != n || byDest["gone"] != 1 {
				t.Errorf("pending by destination: %v, want keep %d, gone 1 (the leased)", byDest, n)
			}
		})
	}
}
