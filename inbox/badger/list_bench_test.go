package badger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// BenchmarkList shows that searches cost the size of their answer, not
// of the archive: compare ns/op between the 10k and 100k archives.
//
//	go test ./inbox -run '^$' -bench BenchmarkList -benchtime 2s
func BenchmarkList(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		db := mustOpen(b, b.TempDir(), badger.Options{})
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		seedMany(b, db, t0, n)
		mid := t0.Add(time.Duration(n/2) * 100 * time.Millisecond)
		queries := []struct {
			name string
			q    func(i int) inbox.Query
		}{
			{"interview", func(i int) inbox.Query {
				return inbox.Query{InterviewID: fmt.Sprint("i-", i%(n/3))}
			}},
			{"interview+source", func(i int) inbox.Query {
				return inbox.Query{Source: "koji", InterviewID: fmt.Sprint("i-", i%(n/3))}
			}},
			{"source+type", func(int) inbox.Query {
				return inbox.Query{Source: "gather", Type: "interview.analysis_ready", Limit: 50}
			}},
			{"rare-source", func(int) inbox.Query {
				return inbox.Query{Source: "audit", Limit: 50}
			}},
			{"time-range-1m", func(int) inbox.Query {
				return inbox.Query{Since: mid, Until: mid.Add(time.Minute), Limit: 1000}
			}},
			{"source+type+range", func(int) inbox.Query {
				return inbox.Query{Source: "koji", Type: "interview.completed", Since: mid, Until: mid.Add(time.Minute)}
			}},
		}
		for _, qc := range queries {
			b.Run(fmt.Sprintf("%s/n=%d", qc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					p, err := db.List(qc.q(i))
					if err != nil || len(p.Events) == 0 {
						b.Fatalf("list: %d events, %v", len(p.Events), err)
					}
					i++
				}
			})
		}
		// Baseline: what any search would cost if it had to read the
		// whole archive (every event and body, oldest first).
		b.Run(fmt.Sprintf("full-scan-baseline/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				seen := 0
				err := db.Export(context.Background(), time.Time{}, time.Time{}, func(inbox.Record) error { seen++; return nil })
				if err != nil || seen != n {
					b.Fatalf("scan saw %d, %v", seen, err)
				}
			}
		})
		db.Close()
	}
}

// seedMany archives n small events 100ms apart from many goroutines so
// they share commits. Interview i-k gets events 3k..3k+2. Source
// "audit" holds one event in a thousand.
func seedMany(b *testing.B, db *badger.DB, t0 time.Time, n int) {
	b.Helper()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ev := newEvent(fmt.Sprint("i-", i/3), fmt.Sprintf(`{"n":%d}`, i))
				ev.ReceivedAt = t0.Add(time.Duration(i) * 100 * time.Millisecond)
				ev.DedupKeys = []string{fmt.Sprint("n:", i)}
				if i%2 == 1 {
					ev.Type = "interview.analysis_ready"
				}
				if i%3 == 2 {
					ev.Source, ev.Provider = "gather", "gather"
				}
				if i%1000 == 500 {
					ev.Source = "audit" // one in a thousand
				}
				if _, err := db.Accept(context.Background(), ev); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}
