package inbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// The Badger engine passes the store conformance suite.
func TestConformance(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) inboxtest.Engine {
		dir := t.TempDir()
		return inboxtest.Engine{
			Open: func(t *testing.T) inboxtest.Store {
				db, err := inbox.Open(inbox.Options{Dir: dir})
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			Export: func(s inboxtest.Store) ([]inbox.Record, error) {
				var recs []inbox.Record
				err := s.(*inbox.DB).Export(context.Background(), time.Time{}, time.Time{}, func(r inbox.Record) error {
					recs = append(recs, r)
					return nil
				})
				return recs, err
			},
			Pending:  func(s inboxtest.Store) ([]inbox.Delivery, error) { return s.(*inbox.DB).Pending() },
			Features: inboxtest.Features{MultiNode: false},
		}
	})
}
