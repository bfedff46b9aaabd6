package postgres

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
	"github.com/porchgw/porch/inbox/postgres/pgtest"
)

// The PostgreSQL engine passes the store conformance suite; each Open is
// a node with a pool of its own.
func TestConformance(t *testing.T) {
	inboxtest.Run(t, func(t *testing.T) inboxtest.Engine {
		url := testURL(t)
		open := func(t *testing.T, opt Options) inboxtest.Store {
			opt.MaxConns = 4
			db, err := Open(context.Background(), nodeURL(t, url), opt)
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
			Crash: func(t *testing.T, s inboxtest.Store) inboxtest.Store {
				crashNode(t, url, s.(*DB))
				return open(t, Options{})
			},
			Features: inboxtest.Features{MultiNode: true},
		}
	})
}

// nodes numbers the nodes the conformance suite opens in this process.
var nodes atomic.Int64

// nodeURL is url with an application_name of the node's own, which names
// its sessions on the server (crashNode).
func nodeURL(t *testing.T, url string) string {
	return pgtest.WithParam(t, url, "application_name", fmt.Sprintf("porch-conformance-%d-%d", os.Getpid(), nodes.Add(1)))
}

// crashNode cuts db off as a crash of its node would: the server ends
// every session of the node in the middle of whatever it was doing, and
// the node makes no new ones. The cut comes while the node's writer is
// in a transaction: another session holds the chain head's row lock
// until the writer's next batch waits for it, and keeps it until the
// end, so that batch is rolled back unanswered and none commits after
// it. The pool is closed meanwhile, and the sessions are ended again
// every few milliseconds until the close returns, so no connection the
// node opens in between survives. db is not closed.
func crashNode(t *testing.T, url string, db *DB) {
	t.Helper()
	app := db.pool.Config().ConnConfig.RuntimeParams["application_name"]
	if app == "" {
		t.Fatal("the node has no application_name to find its sessions by")
	}
	ctx := context.Background()
	tx, err := connect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT FROM chain_head FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the node's writer to wait for the chain head", func() bool { return blockedBy(t, tx) != 0 })
	closed := make(chan struct{})
	go func() {
		db.pool.Close()
		close(closed)
	}()
	for {
		_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
		if err != nil {
			t.Fatalf("end node %s's sessions: %v", app, err)
		}
		select {
		case <-closed:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}
