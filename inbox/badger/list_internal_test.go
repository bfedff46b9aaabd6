package badger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// A search by source alone walks that source's index entries, not the
// whole archive: with 300 koji events and 3 gather events, finding the
// gather ones reads a handful of keys.
func TestSourceSearchDoesNotScanTheArchive(t *testing.T) {
	db := openTest(t)
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i := range 303 {
		ev := &inbox.Event{
			Source: "koji", Provider: "koji", Type: fmt.Sprint("interview.t", i%3), InterviewID: fmt.Sprint("i-", i),
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: t0.Add(time.Duration(i) * time.Second),
			Body: []byte("{}"), DedupKeys: []string{fmt.Sprint("n:", i)},
		}
		if i%100 == 50 {
			ev.Source, ev.Provider = "gather", "gather"
		}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	page, visited, err := db.list(inbox.Query{Source: "gather"})
	if err != nil || len(page.Events) != 3 {
		t.Fatalf("list = %d events, %v; want 3", len(page.Events), err)
	}
	for _, e := range page.Events {
		if e.Source != "gather" {
			t.Errorf("event %s from %s", e.ID, e.Source)
		}
	}
	if visited > 10 {
		t.Errorf("a source search read %d keys for 3 events in an archive of 303", visited)
	}
}

// A source with more types than a search merges is still searched
// correctly, by walking the archive.
func TestSourceSearchWithManyTypes(t *testing.T) {
	db := openTest(t)
	n := maxTypeStreams + 6
	for i := range n {
		ev := &inbox.Event{
			Source: "many", Provider: "koji", Type: fmt.Sprint("t", i), Status: inbox.StatusAccepted,
			Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: []byte("{}"), DedupKeys: []string{fmt.Sprint("m:", i)},
		}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	page, visited, err := db.list(inbox.Query{Source: "many", Limit: inbox.MaxListLimit})
	if err != nil || len(page.Events) != n {
		t.Fatalf("list = %d events, %v; want %d", len(page.Events), err, n)
	}
	for i := 1; i < n; i++ {
		if page.Events[i-1].ID <= page.Events[i].ID {
			t.Fatalf("events %d and %d are not newest first", i-1, i)
		}
	}
	t.Logf("%d types: %d keys read", n, visited)
}
