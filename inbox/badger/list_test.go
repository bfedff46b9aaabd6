package badger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// seed archives n events at one-second steps from t0: interviews i-0,
// i-1, i-2 in turn, types alternating, source koji except every fourth
// (gather).
func seed(t testing.TB, db *badger.DB, t0 time.Time, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ev := newEvent(fmt.Sprint("i-", i%3), fmt.Sprintf(`{"n":%d}`, i))
		ev.ReceivedAt = t0.Add(time.Duration(i) * time.Second)
		ev.DedupKeys = []string{fmt.Sprint("n:", i)}
		if i%2 == 1 {
			ev.Type = "interview.analysis_ready"
		}
		if i%4 == 3 {
			ev.Source, ev.Provider = "gather", "gather"
		}
		r, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

func TestListFilters(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ids := seed(t, db, t0, 12)
	rev := func(idx ...int) []string {
		out := make([]string, len(idx))
		for i, x := range idx {
			out[i] = ids[x]
		}
		return out
	}
	cases := []struct {
		name string
		q    inbox.Query
		want []string
	}{
		{"all newest first", inbox.Query{}, rev(11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"interview any source", inbox.Query{InterviewID: "i-1"}, rev(10, 7, 4, 1)},
		{"interview and source", inbox.Query{InterviewID: "i-1", Source: "koji"}, rev(10, 4, 1)},
		{"source and type", inbox.Query{Source: "koji", Type: "interview.analysis_ready"}, rev(9, 5, 1)},
		{"type any source", inbox.Query{Type: "interview.analysis_ready"}, rev(11, 9, 7, 5, 3, 1)},
		{"source only", inbox.Query{Source: "gather"}, rev(11, 7, 3)},
		{"status", inbox.Query{Status: inbox.StatusAccepted, Limit: 3}, rev(11, 10, 9)},
		{"status none", inbox.Query{Status: inbox.StatusQuarantined}, nil},
		{"since until", inbox.Query{Since: t0.Add(3 * time.Second), Until: t0.Add(6 * time.Second)}, rev(5, 4, 3)},
		{"interview in range", inbox.Query{InterviewID: "i-0", Since: t0.Add(2 * time.Second), Until: t0.Add(9 * time.Second)}, rev(6, 3)},
		{"unknown interview", inbox.Query{InterviewID: "nope"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := db.List(c.q)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, 0, len(p.Events))
			for _, e := range p.Events {
				got = append(got, e.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(append([]string{}, c.want...)) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestListPagesWithCursor(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	ids := seed(t, db, time.Now().Add(-time.Hour), 10)
	var got []string
	q := inbox.Query{Limit: 4}
	for pages := 0; ; pages++ {
		p, err := db.List(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			got = append(got, e.ID)
		}
		if p.NextCursor == "" {
			if pages != 2 {
				t.Errorf("pages = %d, want 3", pages+1)
			}
			break
		}
		q.Cursor = p.NextCursor
	}
	if len(got) != 10 || got[0] != ids[9] || got[9] != ids[0] {
		t.Errorf("paged ids = %v", got)
	}
	if _, err := db.List(inbox.Query{Cursor: "not-an-id"}); err == nil {
		t.Error("bad cursor accepted")
	}
}
