package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The baseline stores each new key's body and outbox row once, answers
// repeats (in one batch, in later ones, and in batches committed at the
// same time) as duplicates of the first with its id, keeps to a schema of
// its own beside porch's tables, and drops that schema on Close.
func TestBaselineStoresBatchesAndDropsItsSchema(t *testing.T) {
	ctx := context.Background()
	url := testURL(t)
	mustOpen(t, url, Options{}) // porch's own tables, in the search_path schema
	b, err := OpenBaseline(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			b.Close()
		}
	})

	got, err := b.Store(ctx, []string{"k/a", "k/b", "k/a"}, [][]byte{[]byte("A"), []byte("B"), []byte("A again")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Duplicate || got[1].Duplicate || !got[2].Duplicate || got[2].ID != got[0].ID || got[0].ID == got[1].ID {
		t.Fatalf("first batch: %+v; want a and b new, the second a a duplicate of the first", got)
	}
	a, bID := got[0].ID, got[1].ID
	got, err = b.Store(ctx, []string{"k/b", "k/c\x00"}, [][]byte{[]byte("B again"), []byte("C")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Duplicate || got[0].ID != bID || got[1].Duplicate || got[1].ID == a || got[1].ID == bID {
		t.Fatalf("second batch: %+v; want b a duplicate with id %d, c new", got, bID)
	}

	// Committers storing overlapping keys at once.
	type answer struct {
		key string
		Stored
	}
	var mu sync.Mutex
	var answers []answer
	var wg sync.WaitGroup
	for w := range BaselineCommitters {
		wg.Go(func() {
			for n := range 20 {
				var keys []string
				var bodies [][]byte
				for i := range 10 {
					keys = append(keys, fmt.Sprintf("r/%d", (w*7+n*3+i)%30))
					bodies = append(bodies, []byte(keys[i]))
				}
				res, err := b.Store(ctx, keys, bodies)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, s := range res {
					answers = append(answers, answer{keys[i], s})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	ids, fresh := map[string]int64{}, map[string]int{}
	for _, x := range answers {
		if id, ok := ids[x.key]; ok && id != x.ID {
			t.Errorf("%s answered with ids %d and %d", x.key, id, x.ID)
		}
		ids[x.key] = x.ID
		if !x.Duplicate {
			fresh[x.key]++
		}
	}
	for k := range ids {
		if fresh[k] != 1 {
			t.Errorf("%s answered new %d times", k, fresh[k])
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	events, outbox := pgx.Identifier{b.Schema(), "events"}.Sanitize(), pgx.Identifier{b.Schema(), "outbox"}.Sanitize()
	var nEvents, nOutbox int
	var body []byte
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+events+"), (SELECT count(*) FROM "+outbox+"), (SELECT body FROM "+events+" WHERE id = $1)", a).
		Scan(&nEvents, &nOutbox, &body); err != nil {
		t.Fatal(err)
	}
	if want := 3 + len(ids); nEvents != want || nOutbox != want || string(body) != "A" {
		t.Errorf("%d events, %d outbox rows, a's body %q; want %d, %d, %q", nEvents, nOutbox, body, want, want, "A")
	}
	var porchEvents int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&porchEvents); err != nil || porchEvents != 0 {
		t.Errorf("porch's events table: %d rows, %v; want it untouched", porchEvents, err)
	}

	closed = true
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var gone, porchThere bool
	if err := conn.QueryRow(ctx, "SELECT to_regnamespace($1) IS NULL, to_regclass('events') IS NOT NULL", b.Schema()).Scan(&gone, &porchThere); err != nil {
		t.Fatal(err)
	}
	if !gone || !porchThere {
		t.Errorf("after Close: baseline schema gone %v, porch's events table there %v", gone, porchThere)
	}
}
