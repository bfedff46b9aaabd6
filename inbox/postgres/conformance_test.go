package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// The PostgreSQL engine passes the store conformance suite; each Open is
// a node with a pool of its own.
func TestConformance(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) inboxtest.Engine {
		url := testURL(t)
		open := func(t *testing.T, opt Options) inboxtest.Store {
			opt.MaxConns = 4
			db, err := Open(context.Background(), url, opt)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		return inboxtest.Engine{
			Open: func(t *testing.T) inboxtest.Store { return open(t, Options{}) },
			OpenBounded: func(t *testing.T, b inboxtest.Bounds) inboxtest.Store {
				return open(t, Options{RejectedLogSize: b.RejectedLogSize, RejectedLogBytes: b.RejectedLogBytes,
					TrailLogSize: b.TrailLogSize, TrailSearchSize: b.TrailSearchSize})
			},
			Tamper: func(s inboxtest.Store, id string) error {
				_, err := s.(*DB).pool.Exec(context.Background(), `UPDATE events SET body = body || '!'::bytea WHERE id = $1`, id)
				return err
			},
			Export: func(s inboxtest.Store) ([]inbox.Record, error) {
				var recs []inbox.Record
				err := s.Export(context.Background(), time.Time{}, time.Time{}, func(r inbox.Record) error {
					recs = append(recs, r)
					return nil
				})
				return recs, err
			},
			Pending: func(s inboxtest.Store) ([]inbox.Delivery, error) { return s.(*DB).Pending(context.Background()) },
			Prune: func(s inboxtest.Store, cutoff time.Time) (inbox.PruneReport, error) {
				return s.(*DB).Prune(cutoff)
			},
			Features: inboxtest.Features{MultiNode: true},
		}
	})
}
