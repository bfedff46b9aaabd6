package badger

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// acceptIntv archives one koji event of interview intv and returns its id.
func acceptIntv(t *testing.T, db *DB, intv string, n int) string {
	t.Helper()
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: intv,
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
		Body: []byte("{}"), DedupKeys: []string{fmt.Sprint("p:", n)},
	}
	r, err := db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func listIDs(t *testing.T, db *DB, q inbox.Query) ([]string, int) {
	t.Helper()
	page, visited, err := db.list(q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range page.Events {
		ids = append(ids, e.ID)
	}
	return ids, visited
}

// A search by interview prefix finds the interviews whose id begins with
// it in any case, newest first, merged across interviews, and reads the
// index entries of those interviews only: 300 other events cost nothing.
func TestInterviewPrefixSearch(t *testing.T) {
	db := openTest(t)
	long := "Int_Long/" + strings.Repeat("é", 400) // over MaxKeyPart bytes, with "/" escaped
	a := acceptIntv(t, db, "Int_8F2C-a", 0)
	for i := range 300 {
		acceptIntv(t, db, fmt.Sprint("other-", i), 1000+i)
	}
	b := acceptIntv(t, db, "int_8f2c-B", 1)
	c := acceptIntv(t, db, "int_9", 2)
	l := acceptIntv(t, db, long, 3)
	ln := acceptIntv(t, db, long[:len(long)-2]+"x", 4) // shares the cut key component, not the id
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"INT_8f2", []string{b, a}},
		{"int_8F2C-b", []string{b}},
		{"int_", []string{ln, l, c, b, a}},
		{"int_long/", []string{ln, l}},
		{strings.ToUpper(long), []string{l}},
		{"int_8f2c-ab", nil},
		{"nope", nil},
	} {
		got, visited := listIDs(t, db, inbox.Query{InterviewPrefix: tc.prefix})
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("prefix %.20q: got %v, want %v", tc.prefix, got, tc.want)
		}
		if visited > 10 {
			t.Errorf("prefix %.20q read %d keys in an archive of 305", tc.prefix, visited)
		}
	}
	// With other filters: the exact id still wins, and source narrows.
	if got, _ := listIDs(t, db, inbox.Query{InterviewPrefix: "int_8", Source: "gather"}); got != nil {
		t.Errorf("prefix and another source: %v", got)
	}
}

// A prefix shared by more interviews than a search merges is still
// answered exactly, by the next index or the archive.
func TestInterviewPrefixSearchManyInterviews(t *testing.T) {
	db := openTest(t)
	var want []string
	for i := range maxFoldStreams + 5 {
		want = append([]string{acceptIntv(t, db, fmt.Sprintf("MANY-%03d", i), i)}, want...)
	}
	acceptIntv(t, db, "few-1", 999)
	got, _ := listIDs(t, db, inbox.Query{InterviewPrefix: "many-", Limit: inbox.MaxListLimit})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %d events, want %d", len(got), len(want))
	}
}

// An event id prefix in any case bounds the search to the ids that
// begin with it.
func TestEventIDPrefixSearch(t *testing.T) {
	db := openTest(t)
	a := acceptIntv(t, db, "x", 0)
	acceptIntv(t, db, "x", 1)
	for _, p := range []string{a, strings.ToLower(a), strings.ToLower(a[:25])} {
		got, _ := listIDs(t, db, inbox.Query{IDPrefix: p})
		if len(got) == 0 || got[len(got)-1] != a {
			t.Errorf("id prefix %s: got %v", p, got)
		}
		for _, id := range got {
			if !strings.HasPrefix(id, strings.ToUpper(p)) {
				t.Errorf("id prefix %s: got %s", p, id)
			}
		}
	}
	if got, _ := listIDs(t, db, inbox.Query{IDPrefix: strings.ToLower(a)}); len(got) != 1 {
		t.Errorf("whole id: got %v", got)
	}
}

// A store written before the folded index existed is indexed when it is
// opened, once.
func TestFoldIndexBackfilledOnOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a := acceptIntv(t, db, "Old-Interview", 0)
	acceptIntv(t, db, "", 1)
	// Make it an older store: no folded entries, no mark.
	err = db.bdb.DropPrefix([]byte(pfxIdxFold), []byte(keyFoldIndex))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := listIDs(t, db, inbox.Query{InterviewPrefix: "old-"}); got != nil {
		t.Fatalf("without the index: %v", got)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, _ := listIDs(t, db, inbox.Query{InterviewPrefix: "old-"}); fmt.Sprint(got) != fmt.Sprint([]string{a}) {
		t.Errorf("after reopening: %v, want [%s]", got, a)
	}
	if err := db.bdb.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(keyFoldIndex))
		return err
	}); err != nil {
		t.Errorf("store not marked as indexed: %v", err)
	}
}

// Retention removes an event's folded index entry with it.
func TestFoldIndexEntryRemovedWithEvent(t *testing.T) {
	e := &inbox.Event{ID: "01KBZZZZZZZZZZZZZZZZZZZZZZ", Source: "koji", Type: "t", Status: inbox.StatusAccepted, InterviewID: "A/b%C"}
	want := pfxIdxFold + "a%2Fb%25c/" + e.ID
	for _, k := range indexKeys(e) {
		if string(k) == want {
			return
		}
	}
	t.Errorf("indexKeys lacks %s", want)
}

// ExportMatching streams the events of a search oldest first, bodies
// included, across chunks; a sparse filter does not end the stream early.
func TestExportMatching(t *testing.T) {
	db := openTest(t)
	var want []string
	for i := range exportChunk*16 + 40 {
		intv := fmt.Sprint("other-", i)
		if i%300 == 7 {
			intv = fmt.Sprint("Wanted-", i)
		}
		id := acceptIntv(t, db, intv, i)
		if i%300 == 7 {
			want = append(want, id)
		}
	}
	var got []string
	err := db.ExportMatching(context.Background(), inbox.Query{InterviewPrefix: "wANTED", Limit: 1, Cursor: want[0]}, func(r inbox.Record) error {
		if string(r.Body) != "{}" {
			t.Errorf("record %s body %q", r.ID, r.Body)
		}
		got = append(got, r.ID)
		return nil
	})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("export = %v, %v; want %v", got, err, want)
	}
}
