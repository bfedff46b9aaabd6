package admin_test

import (
	"testing"
	"time"
)

// waitFor polls cond until it holds, for state only the server (or the
// browser) can see: the package's one wait on background work. The 60 s
// bound only stops a hang; it is generous for the race detector on a
// loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
