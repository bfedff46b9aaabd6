package postgres

import (
	"context"
	"testing"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// The PostgreSQL engine passes the store conformance suite; each Open is
// a node with a pool of its own.
func TestConformance(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) inboxtest.Engine {
		url := testURL(t)
		return inboxtest.Engine{
			Open: func(t *testing.T) inboxtest.Store {
				db, err := Open(context.Background(), url, Options{MaxConns: 4})
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			Export: func(s inboxtest.Store) ([]inbox.Record, error) {
				var recs []inbox.Record
				err := s.(*DB).Export(context.Background(), func(r inbox.Record) error {
					recs = append(recs, r)
					return nil
				})
				return recs, err
			},
			Pending:  func(s inboxtest.Store) ([]inbox.Delivery, error) { return s.(*DB).Pending(context.Background()) },
			Features: inboxtest.Features{MultiNode: true},
		}
	})
}
