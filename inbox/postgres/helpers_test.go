package postgres

import (
	"context"
	"testing"

	"github.com/porchgw/porch/inbox/postgres/pgtest"
)

// testURL is a schema of the test's own; see pgtest.
func testURL(t testing.TB) string { return pgtest.URL(t) }

func mustOpen(t testing.TB, url string, opt Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
