package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// BenchmarkAccept32 measures group-committed durable accepts from 32
// concurrent writers on this engine and, in the same run, on the Badger
// engine and on the least a PostgreSQL receiver does (floor), so they
// can be compared as ratios on the same machine.
func BenchmarkAccept32(b *testing.B) {
	body := []byte(`{"event":"interview.completed","data":{"note":"` + strings.Repeat("x", 1500) + `"}}`)
	b.Run("badger", func(b *testing.B) {
		db, err := badger.Open(badger.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchAccept(b, db, body)
	})
	b.Run("postgres", func(b *testing.B) {
		db := mustOpen(b, testURL(b), Options{})
		benchAccept(b, db, body)
	})
	b.Run("floor", func(b *testing.B) {
		benchAccept(b, openFloor(b, testURL(b)), body)
	})
}

type acceptor interface {
	Accept(context.Context, *inbox.Event) (inbox.Result, error)
}

// benchAccept reports acks/s and the 99th percentile of an ack's
// latency besides ns/op.
func benchAccept(b *testing.B, s acceptor, body []byte) {
	sum := sha256.Sum256(body)
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	b.ReportAllocs()
	b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
		for pb.Next() {
			i := n.Add(1)
			ev := &inbox.Event{
				Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: fmt.Sprint("iv-", i),
				Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
				Headers:    map[string][]string{"Content-Type": {"application/json"}},
				BodySHA256: hex.EncodeToString(sum[:]), BodySize: len(body), Body: body,
				DedupKeys: []string{fmt.Sprint("koji/interview.completed/iv-", i)}, Destinations: []string{"app"},
			}
			t0 := time.Now()
			if _, err := s.Accept(context.Background(), ev); err != nil {
				b.Fatal(err)
			}
			mine = append(mine, time.Since(t0))
		}
	})
	elapsed := time.Since(start)
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "acks/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
