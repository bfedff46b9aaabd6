package inbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

func TestOutboxStatsCountsPerDestination(t *testing.T) {
	db := mustOpen(t, "", inbox.Options{})
	defer db.Close()
	before := time.Now().Add(-time.Second)
	for i, dests := range [][]string{{"app", "audit"}, {"app"}, {"app"}, nil} {
		if _, err := db.Accept(context.Background(), newEvent(string(rune('a'+i)), string(rune('a'+i)), dests...)); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := db.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	if got := stats["app"].Depth; got != 3 {
		t.Errorf("app depth = %d, want 3", got)
	}
	if got := stats["audit"].Depth; got != 1 {
		t.Errorf("audit depth = %d, want 1", got)
	}
	if len(stats) != 2 {
		t.Errorf("stats = %+v, want only app and audit", stats)
	}
	if o := stats["app"].Oldest; o.Before(before) || o.After(time.Now()) {
		t.Errorf("app oldest = %s, not within the test", o)
	}
}
