package postgres

import (
	"context"
	"strings"
	"testing"
)

// The dedup lookup probes dedup_keys by primary key even in the plan a
// connection caches while the table is still empty, as the writer's
// connection does when porch starts: a hash join over a sequential scan
// there would read the whole table in every batch as it grows.
func TestDedupLookupProbesPrimaryKey(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	ctx := context.Background()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, sql := range []string{
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE holders AS ` + holdersSQL,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	defer conn.Exec(ctx, `DEALLOCATE holders; RESET plan_cache_mode`)
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE holders('{koji}', ARRAY['\x00'::bytea], now())`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Scan using dedup_keys_pkey") || strings.Contains(text, "Seq Scan on dedup_keys") {
		t.Errorf("the dedup lookup does not probe the primary key:\n%s", text)
	}
}

// A node's sessions are named porch in pg_stat_activity, unless the URL
// names them.
func TestSessionsNamedPorch(t *testing.T) {
	ctx := context.Background()
	for url, want := range map[string]string{
		testURL(t):                               "porch",
		testURL(t) + "&application_name=porch-a": "porch-a",
	} {
		db := mustOpen(t, url, Options{})
		var name string
		if err := db.pool.QueryRow(ctx, `SELECT current_setting('application_name')`).Scan(&name); err != nil || name != want {
			t.Errorf("application_name %q, %v; want %q", name, err, want)
		}
	}
}
