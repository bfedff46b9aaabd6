package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/sirupsen/logrus/hooks/test"
)

// Nodes starting together on an empty database apply each migration once
// and all open; only the node that applied them says so.
func TestMigrateNodesStartingTogether(t *testing.T) {
	url := testURL(t)
	const nodes = 6
	errs := make([]error, nodes)
	log, hook := test.NewNullLogger()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			<-start
			db, err := Open(context.Background(), url, Options{MaxConns: 2, Logger: log})
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	var rows, heads int
	conn := connect(t, url)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM porch_schema").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM chain_head").Scan(&heads); err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || heads != 1 {
		t.Fatalf("porch_schema has %d rows, chain_head %d; want %d and 1", rows, heads, len(ms))
	}
	var said int
	for _, e := range hook.AllEntries() {
		if e.Message == "database schema migrated" {
			said++
		}
	}
	if said != 1 {
		t.Errorf("%d nodes logged that they migrated the schema, want 1", said)
	}
}

// Migrate brings an empty database to the current schema, and Check says
// so; a second Migrate changes nothing.
func TestMigrateAndCheck(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	st, err := Check(ctx, url)
	if err != nil || st.Current != 0 || st.UpToDate() {
		t.Fatalf("empty database: %+v, %v", st, err)
	}
	from, to, err := Migrate(ctx, url)
	if err != nil || from != 0 || to != SchemaVersion() {
		t.Fatalf("migrate: from %d to %d, %v", from, to, err)
	}
	if st, err := Check(ctx, url); err != nil || !st.UpToDate() {
		t.Fatalf("after migrate: %+v, %v", st, err)
	}
	if from, to, err := Migrate(ctx, url); err != nil || from != to {
		t.Fatalf("second migrate: from %d to %d, %v", from, to, err)
	}
}

// A database migrated by a newer porch is refused, not served.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	if _, _, err := Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, url).Exec(ctx, "INSERT INTO porch_schema (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, url, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this porch") {
		t.Fatalf("got %v, want a refusal of the newer schema", err)
	}
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
