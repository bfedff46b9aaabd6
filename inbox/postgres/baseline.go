package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BaselineCommitters is how many batches a receiver should commit at once
// through a Baseline: one per connection of its pool, as a pool-backed
// receiver would run them.
const BaselineCommitters = 4

// Baseline is the least a durable receiver on PostgreSQL does per batch
// of deliveries, for porch bench to measure beside porch: one transaction
// (synchronous_commit as the server has it) that inserts each new
// delivery's dedup key, raw payload and outbox row, skipping keys already
// stored. Its two tables live in a schema of its own, created by
// OpenBaseline and dropped by Close, so porch's tables are never touched.
type Baseline struct {
	pool   *pgxpool.Pool
	url    string
	schema string
	store  string // the batch statement
	lookup string // reads ids of keys other batches stored meanwhile
}

// Stored is what Baseline.Store did with one delivery.
type Stored struct {
	ID        int64 // the event's id
	Duplicate bool  // its key was stored before (by an earlier batch, or earlier in this one)
}

// baselineDropTimeout bounds Close's DROP SCHEMA.
const baselineDropTimeout = 30 * time.Second

// OpenBaseline connects to the database at url and creates a schema of
// its own, named porch_bench_ and random hex, holding its tables.
func OpenBaseline(ctx context.Context, url string) (*Baseline, error) {
	pool, err := newPool(ctx, url, BaselineCommitters)
	if err != nil {
		return nil, fmt.Errorf("durable baseline: %w", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		pool.Close()
		return nil, fmt.Errorf("durable baseline: schema name: %w", err)
	}
	schema := "porch_bench_" + hex.EncodeToString(b)
	q := func(table string) string { return pgx.Identifier{schema, table}.Sanitize() }
	ddl := fmt.Sprintf(`
CREATE SCHEMA %s;
CREATE TABLE %s (
  id bigserial PRIMARY KEY,
  dedup_key text NOT NULL UNIQUE,
  received_at timestamptz NOT NULL DEFAULT now(),
  body bytea NOT NULL
);
CREATE TABLE %s (
  event_id bigint PRIMARY KEY REFERENCES %s(id),
  due_at timestamptz NOT NULL DEFAULT now()
);`, pgx.Identifier{schema}.Sanitize(), q("events"), q("outbox"), q("events"))
	if _, err := pool.Exec(ctx, ddl); err != nil {
		pool.Close()
		return nil, fmt.Errorf("durable baseline: create schema %s in %s: %w", schema, MaskURL(url), maskErr(err, url))
	}
	return &Baseline{
		pool:   pool,
		url:    url,
		schema: schema,
		// Rows another batch inserted after this statement's snapshot
		// are in neither part of the result; Store reads them after.
		store: fmt.Sprintf(`
WITH t AS (SELECT k, b FROM unnest($1::text[], $2::bytea[]) AS t(k, b)),
ins AS (
  INSERT INTO %[1]s (dedup_key, body) SELECT k, b FROM t
  ON CONFLICT (dedup_key) DO NOTHING
  RETURNING id, dedup_key),
ob AS (INSERT INTO %[2]s (event_id) SELECT id FROM ins)
SELECT dedup_key, id, false FROM ins
UNION ALL
SELECT dedup_key, id, true FROM %[1]s WHERE dedup_key = ANY($1::text[])`, q("events"), q("outbox")),
		lookup: fmt.Sprintf(`SELECT dedup_key, id FROM %s WHERE dedup_key = ANY($1::text[])`, q("events")),
	}, nil
}

// Schema names the baseline's schema.
func (b *Baseline) Schema() string { return b.schema }

// Store stores one batch in one transaction: for each key not stored
// before, its body and an outbox row. keys and bodies run in parallel; a
// key repeated in the batch is a duplicate of its first occurrence. The
// result has one entry per key, in order. A NUL in a key is stored as
// U+FFFD, as porch's engine stores it.
func (b *Baseline) Store(ctx context.Context, keys []string, bodies [][]byte) ([]Stored, error) {
	if len(keys) != len(bodies) {
		return nil, fmt.Errorf("durable baseline: %d keys for %d bodies", len(keys), len(bodies))
	}
	first := make(map[string]int, len(keys)) // key → its index in uniq
	clean := make([]string, len(keys))
	uniq := make([]string, 0, len(keys))
	ubodies := make([][]byte, 0, len(keys))
	for i, k := range keys {
		k = strings.ReplaceAll(k, "\x00", "\uFFFD")
		clean[i] = k
		if _, ok := first[k]; !ok {
			first[k] = len(uniq)
			uniq, ubodies = append(uniq, k), append(ubodies, bodies[i])
		}
	}
	got := make(map[string]Stored, len(uniq))
	// Planned on every call (QueryExecModeExec): a plan cached while the
	// table was empty would scan it whole, ever slower as it fills.
	rows, _ := b.pool.Query(ctx, b.store, pgx.QueryExecModeExec, uniq, ubodies)
	var k string
	var s Stored
	if _, err := pgx.ForEachRow(rows, []any{&k, &s.ID, &s.Duplicate}, func() error {
		got[k] = s
		return nil
	}); err != nil {
		return nil, fmt.Errorf("durable baseline: store %d deliveries: %w", len(uniq), maskErr(err, b.url))
	}
	if len(got) < len(uniq) {
		// Keys another batch inserted while this one waited on them:
		// committed now, so a new statement sees them.
		var missing []string
		for _, k := range uniq {
			if _, ok := got[k]; !ok {
				missing = append(missing, k)
			}
		}
		rows, _ := b.pool.Query(ctx, b.lookup, pgx.QueryExecModeExec, missing)
		if _, err := pgx.ForEachRow(rows, []any{&k, &s.ID}, func() error {
			got[k] = Stored{ID: s.ID, Duplicate: true}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("durable baseline: read %d keys stored meanwhile: %w", len(missing), maskErr(err, b.url))
		}
	}
	out := make([]Stored, len(keys))
	seen := make([]bool, len(uniq))
	for i, k := range clean {
		s, ok := got[k]
		if !ok {
			return nil, fmt.Errorf("durable baseline: key %d of the batch is neither stored nor found", i)
		}
		j := first[k]
		s.Duplicate = s.Duplicate || seen[j]
		seen[j] = true
		out[i] = s
	}
	return out, nil
}

// Close drops the baseline's schema and everything in it, then closes
// its connections.
func (b *Baseline) Close() error {
	defer b.pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), baselineDropTimeout)
	defer cancel()
	if _, err := b.pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{b.schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("durable baseline: drop schema %s: %w", b.schema, maskErr(err, b.url))
	}
	return nil
}
