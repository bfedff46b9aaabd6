package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A cluster of the test's own takes connections, and after a crash-like
// stop and a start it still holds what was committed.
func TestClusterSurvivesRestart(t *testing.T) {
	c := NewCluster(t)
	ctx := context.Background()
	exec(t, c.URL(), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	c.Stop()
	if conn, err := pgx.Connect(ctx, c.URL()); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped cluster")
	}
	c.Start()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Log())
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: v %d, err %v", v, err)
	}
}
