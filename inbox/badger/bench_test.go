package badger_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/porchgw/porch/inbox/badger"
)

// BenchmarkAccept measures durable accepts (fsync included) on a real
// directory: one at a time, and from many goroutines sharing commits.
func BenchmarkAccept(b *testing.B) {
	body := `{"event":"interview.completed","data":{"note":"` + strings.Repeat("x", 1500) + `"}}`
	var n atomic.Int64
	b.Run("sequential", func(b *testing.B) {
		db := mustOpen(b, b.TempDir(), badger.Options{})
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.Accept(context.Background(), newEvent(fmt.Sprint(n.Add(1)), body, "app")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		db := mustOpen(b, b.TempDir(), badger.Options{})
		defer db.Close()
		b.ReportAllocs()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.Accept(context.Background(), newEvent(fmt.Sprint(n.Add(1)), body, "app")); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
