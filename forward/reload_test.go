package forward

import (
	"context"
	"testing"
	"time"
)

func TestSetDestinationsServesANewDestinationLive(t *testing.T) {
	c := newClock()
	db := openDB(t, t.TempDir(), c)
	a := newSink(t, status(200))
	b := newSink(t, status(200))
	d, _ := start(t, db, c, testDest("a", a.URL))

	// An entry for "b" before b exists waits, untouched.
	early := accept(t, db, "iv-1", `{"n":1}`, "b")
	waitPasses(t, d, 2)
	if n := len(b.Hits()); n != 0 {
		t.Fatalf("b got %d requests before it was configured", n)
	}
	bad := testDest("b", b.URL)
	bad.Secret = "not-a-secret"
	if err := d.SetDestinations([]Destination{testDest("a", a.URL), bad}); err == nil {
		t.Fatal("SetDestinations took an invalid destination")
	}
	if err := d.SetDestinations([]Destination{testDest("a", a.URL), testDest("b", b.URL)}); err != nil {
		t.Fatal(err)
	}
	late := accept(t, db, "iv-2", `{"n":2}`, "a", "b")
	waitFor(t, "both events at b", func() bool { return len(b.Hits()) >= 2 })
	waitFor(t, "the second event at a", func() bool { return len(a.Hits()) >= 1 })
	for _, id := range []string{early, late} {
		waitFor(t, id+" delivered at b", func() bool { return state(t, db, id, "b").Status == "delivered" })
	}
}

// A reload may come while Run starts (SIGHUP right after porch serves):
// Run reads the destinations under the same lock SetDestinations takes,
// which the race detector checks.
func TestSetDestinationsWhileRunStarts(t *testing.T) {
	c := newClock()
	db := openDB(t, t.TempDir(), c)
	a := newSink(t, status(200))
	for range 20 {
		d, err := New(Config{Destinations: []Destination{testDest("a", a.URL)}, Poll: 10 * time.Millisecond, Now: c.Now}, db, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		if err := d.SetDestinations([]Destination{testDest("a", a.URL), testDest("b", a.URL)}); err != nil {
			t.Fatal(err)
		}
		cancel()
		<-done
	}
}
