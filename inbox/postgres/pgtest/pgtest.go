// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by PORCH_TEST_DATABASE_URL, so tests against the
// PostgreSQL engine are independent and may run in parallel. Without that
// variable it skips the test, saying how to run it.
//
// It is part of the PostgreSQL engine's tree, and so may import pgx; only
// tests import it.
package pgtest

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

// EnvVar names the test database.
const EnvVar = "PORCH_TEST_DATABASE_URL"

// URL returns a connection string for a new, empty schema (as the
// search_path) in the test database, dropped when the test ends; or it
// skips the test when EnvVar is unset.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip("PostgreSQL tests need a database: set " + EnvVar + ", e.g. " +
			"postgres:///porch_test?host=/var/run/postgresql (.ci/run sets one up)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	return WithParam(t, base, "search_path", schema)
}

// exec runs one statement on a connection of its own. Connection errors
// from pgx name the host, user and database, never the password.
func exec(t testing.TB, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// WithParam adds a run-time parameter to a URL or key=value string, such
// as the application_name that names a node's sessions.
func WithParam(t testing.TB, base, key, value string) string {
	t.Helper()
	if !strings.Contains(base, "://") {
		return base + " " + key + "=" + value
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
