package badger_test

import (
	"context"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// The Badger engine passes the store conformance suite.
func TestConformance(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) inboxtest.Engine {
		dir := t.TempDir()
		gates := map[inboxtest.Store]*badger.CrashGate{}
		open := func(t *testing.T, opt badger.Options) inboxtest.Store {
			opt.Dir = dir
			db, err := badger.Open(opt)
			if err != nil {
				t.Fatal(err)
			}
			gates[db] = db.CrashGateForTest()
			return db
		}
		return inboxtest.Engine{
			Open: func(t *testing.T) inboxtest.Store { return open(t, badger.Options{}) },
			OpenBounded: func(t *testing.T, b inboxtest.Bounds) inboxtest.Store {
				return open(t, badger.Options{RejectedLogSize: b.RejectedLogSize, RejectedLogBytes: b.RejectedLogBytes,
					TrailLogSize: b.TrailLogSize, TrailSearchSize: b.TrailSearchSize})
			},
			Tamper: func(s inboxtest.Store, id string) error {
				return s.(*badger.DB).RewriteBodyForTest(id, func(b []byte) []byte { return append(b, '!') })
			},
			Export: func(s inboxtest.Store) ([]inbox.Record, error) {
				var recs []inbox.Record
				err := s.Export(context.Background(), time.Time{}, time.Time{}, func(r inbox.Record) error {
					recs = append(recs, r)
					return nil
				})
				return recs, err
			},
			Pending: func(s inboxtest.Store) ([]inbox.Delivery, error) { return s.(*badger.DB).Pending() },
			Prune: func(s inboxtest.Store, cutoff time.Time) (inbox.PruneReport, error) {
				return s.(*badger.DB).Prune(cutoff)
			},
			// A crash is a copy of the data directory as kill -9 would
			// leave it (CopyAsCrashed); the store opened on the copy is the
			// restarted process, and later Opens open the copy too. The
			// original stays held until the test ends.
			Crash: func(t *testing.T, s inboxtest.Store) inboxtest.Store {
				crashed := t.TempDir()
				release, err := gates[s].CopyAsCrashed(crashed)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(release)
				dir = crashed
				return open(t, badger.Options{})
			},
			Features: inboxtest.Features{MultiNode: false},
		}
	})
}
