package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox"
)

func acceptN(t *testing.T, db *DB, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		r, err := db.Accept(context.Background(), event(i, fmt.Sprint("k", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

// Events whose folded interview id is not yet filled in (written by a
// node older than the column) are still found by a prefix search, and
// the next Open fills them in.
func TestUnfoldedEventsFoundAndBackfilled(t *testing.T) {
	url := testURL(t)
	db := mustOpen(t, url, Options{})
	ids := acceptN(t, db, 3)
	if _, err := db.pool.Exec(context.Background(), `UPDATE events SET interview_fold = NULL`); err != nil {
		t.Fatal(err)
	}
	p, err := db.List(inbox.Query{InterviewPrefix: "IV-1"})
	if err != nil || len(p.Events) != 1 || p.Events[0].ID != ids[1] {
		t.Fatalf("prefix search over unfolded rows: %+v, %v", p, err)
	}
	db2 := mustOpen(t, url, Options{})
	var unfolded int
	err = db2.pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE interview_fold IS NULL`).Scan(&unfolded)
	if err != nil || unfolded != 0 {
		t.Fatalf("after open: %d rows unfolded, %v", unfolded, err)
	}
}

// An exact interview search finds exactly the events with that id: not
// the ids that fold the same, ASCII or not, nor rows whose fold is not
// filled in or was computed otherwise (another build's Unicode tables).
func TestExactInterviewSearch(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	ids := map[string]string{}
	for i, iv := range []string{"IV-X", "iv-x", "Ünï-1", "ünï-1", "plain"} {
		ev := event(i, "k-"+iv)
		ev.InterviewID = iv
		r, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		ids[iv] = r.ID
	}
	if _, err := db.pool.Exec(context.Background(), `UPDATE events SET interview_fold = 'elsewhere' WHERE interview_id = 'Ünï-1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(context.Background(), `UPDATE events SET interview_fold = NULL WHERE interview_id = 'plain'`); err != nil {
		t.Fatal(err)
	}
	for iv, id := range ids {
		p, err := db.List(inbox.Query{InterviewID: iv})
		if err != nil || len(p.Events) != 1 || p.Events[0].ID != id {
			t.Errorf("search %q: %+v, %v; want only %s", iv, p.Events, err, id)
		}
	}
}

// Verify starts from the retention checkpoint: events retention removed
// are no break, and the report says where it started.
func TestVerifyStartsAtCheckpoint(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	acceptN(t, db, 5)
	ctx := context.Background()
	var hash, id string
	if err := db.pool.QueryRow(ctx, `SELECT hash, id FROM events WHERE seq = 2`).Scan(&hash, &id); err != nil {
		t.Fatal(err)
	}
	_, err := db.pool.Exec(ctx, `UPDATE chain_checkpoint SET seq = 2, hash = $1, event_id = $2`, hash, id)
	if err == nil {
		_, err = db.pool.Exec(ctx, `DELETE FROM events WHERE seq <= 2`)
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := db.Verify(ctx)
	if err != nil || !rep.OK || rep.StartSeq != 2 || rep.StartHash != hash || rep.Checked != 3 || rep.LastSeq != 5 {
		t.Fatalf("verify from checkpoint: %+v, %v", rep, err)
	}
	// The newest event gone is a break: the chain stops short of its head.
	if _, err := db.pool.Exec(ctx, `DELETE FROM events WHERE seq = 5`); err != nil {
		t.Fatal(err)
	}
	rep, err = db.Verify(ctx)
	if err != nil || rep.OK || rep.Broken == nil || rep.Broken.Seq != 5 {
		t.Fatalf("verify without the head: %+v, %v", rep, err)
	}
}

// An export longer than one chunk continues across chunks in chain
// order, and one bounded in bytes still makes progress.
func TestExportAcrossChunks(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	ids := acceptN(t, db, exportChunk+10)
	var got []string
	err := db.Export(context.Background(), inbox.IDTime(ids[0]), inbox.IDTime(ids[0]).AddDate(1, 0, 0), func(r inbox.Record) error {
		got = append(got, r.ID)
		return nil
	})
	if err != nil || !slices.Equal(got, ids) {
		t.Fatalf("export: %d records, %v; want %d", len(got), err, len(ids))
	}
}

// Rows written before migration 0007 hold every type whole in type, with
// type_full NULL, even one longer than maxIndexedType that compressed
// enough to fit the index or one that begins with "%#": an exact search
// still finds each, and only it.
func TestTypesStoredBeforeTypeFull(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	types := []string{"interview.completed", "%#interview.completed", strings.Repeat("x", 600), strings.Repeat("a", 5000)}
	ids := map[string]string{}
	for i, typ := range types {
		ev := event(i, fmt.Sprint("old-", i))
		ev.Type = typ
		r, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		ids[typ] = r.ID
	}
	var hashed int
	if err := db.pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type_full IS NOT NULL`).Scan(&hashed); err != nil || hashed != 1 {
		t.Fatalf("%d types stored hashed, want 1 (the 5,000-byte one), %v", hashed, err)
	}
	check := func(when string) {
		t.Helper()
		for _, typ := range types {
			for _, q := range []inbox.Query{{Type: typ}, {Source: "koji", Type: typ}} {
				p, err := db.List(q)
				if err != nil || len(p.Events) != 1 || p.Events[0].ID != ids[typ] || p.Events[0].Type != typ {
					t.Errorf("%s: search for a type of %d bytes (%.12q) finds %d events, %v", when, len(typ), typ, len(p.Events), err)
				}
			}
		}
	}
	check("as written")
	if _, err := db.pool.Exec(context.Background(), `UPDATE events SET type = COALESCE(type_full, type), type_full = NULL`); err != nil {
		t.Fatal(err)
	}
	check("as an older build wrote them")
	if rep, err := db.Verify(context.Background()); err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
