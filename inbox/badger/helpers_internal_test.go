package badger

import (
	"testing"
	"time"
)

// openTest opens a store in a fresh temporary directory, closed when the
// test ends.
func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitFor polls cond until it holds, failing the test after 60 s. It is
// this package's one wait for work that background goroutines do (the
// writers, the retention and trim loops); the external tests reach it as
// WaitFor. The bound only stops a hang, so it is generous for the race
// detector on a loaded machine.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s", what)
		}
	}
}
