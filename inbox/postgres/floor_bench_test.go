package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/porchgw/porch/inbox"
)

// floorSchema and floorInsert are the least a durable receiver on
// PostgreSQL does per batch of deliveries: one autocommitted statement
// that stores each new delivery's dedup key, payload and outbox row.
// BenchmarkAccept32/floor runs them under the same load as this engine,
// so the engine's accepts can be read as a ratio of this reference.
const (
	floorSchema = `
CREATE TABLE floor_events (
  id bigserial PRIMARY KEY,
  dedup_key text NOT NULL UNIQUE,
  received_at timestamptz NOT NULL DEFAULT now(),
  body bytea NOT NULL
);
CREATE TABLE floor_outbox (
  event_id bigint PRIMARY KEY REFERENCES floor_events(id),
  due_at timestamptz NOT NULL DEFAULT now()
);`
	floorInsert = `
WITH ins AS (
  INSERT INTO floor_events (dedup_key, body)
  SELECT k, b FROM unnest($1::text[], $2::bytea[]) AS t(k, b)
  ON CONFLICT (dedup_key) DO NOTHING
  RETURNING id)
INSERT INTO floor_outbox (event_id) SELECT id FROM ins`
)

// floorCommitters is how many batches the reference has in flight.
const floorCommitters = 4

// floor is the reference receiver: batches form from whatever is
// queued, up to 256, and four committers each commit one at a time.
type floor struct {
	pool *pgxpool.Pool
	reqs chan floorReq
	quit chan struct{}
}

type floorReq struct {
	key  string
	body []byte
	done chan error
}

func openFloor(b *testing.B, url string) *floor {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), floorSchema); err != nil {
		b.Fatal(err)
	}
	f := &floor{pool: pool, reqs: make(chan floorReq, 4096), quit: make(chan struct{})}
	for range floorCommitters {
		go f.commitLoop()
	}
	b.Cleanup(func() { close(f.quit); pool.Close() })
	return f
}

func (f *floor) commitLoop() {
	for {
		var batch []floorReq
		select {
		case r := <-f.reqs:
			batch = append(batch, r)
		case <-f.quit:
			return
		}
	fill:
		for len(batch) < 256 {
			select {
			case r := <-f.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		keys := make([]string, len(batch))
		bodies := make([][]byte, len(batch))
		for i, r := range batch {
			keys[i], bodies[i] = r.key, r.body
		}
		_, err := f.pool.Exec(context.Background(), floorInsert, keys, bodies)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (f *floor) Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error) {
	r := floorReq{key: ev.Source + "/" + ev.DedupKeys[0], body: ev.Body, done: make(chan error, 1)}
	f.reqs <- r
	if err := <-r.done; err != nil {
		return inbox.Result{}, fmt.Errorf("floor: %w", err)
	}
	return inbox.Result{}, nil
}
