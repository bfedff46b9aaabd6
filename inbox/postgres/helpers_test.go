package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// testURL returns the URL of a schema of the test's own in the test
// database, dropped when the test ends, or skips the test when no test
// database is configured.
func testURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PORCH_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("PostgreSQL tests need a database: set PORCH_TEST_DATABASE_URL, e.g. " +
			"postgres:///porch_test?host=/var/run/postgresql (.ci/run sets one up)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to PORCH_TEST_DATABASE_URL: %v", maskErr(err, base))
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return withParam(t, base, "search_path", schema)
}

// withParam adds a run-time parameter to a URL or key=value string.
func withParam(t testing.TB, base, key, value string) string {
	t.Helper()
	if !strings.Contains(base, "://") {
		return base + " " + key + "=" + value
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("PORCH_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func mustOpen(t testing.TB, url string, opt Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
