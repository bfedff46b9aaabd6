package badger

import (
	"fmt"
	"testing"
	"time"
)

// The filter may answer "maybe" for a key it never saw, but never "no"
// for one it did, across the stages it grows into. (That Open rebuilds
// it from the store, TestReopenKeepsEventsDedupAndChain checks.)
func TestDedupFilterNeverForgets(t *testing.T) {
	f := newDedupFilter(0, time.Now)
	const n = 5 * bloomMinCap // three stages: 64Ki, 128Ki, 256Ki keys
	for i := range n {
		f.add(fmt.Appendf(nil, "d/koji/key-%d", i))
	}
	if len(f.stages) != 3 {
		t.Errorf("%d stages for %d keys, want 3 (64Ki+128Ki+256Ki)", len(f.stages), n)
	}
	for i := range n {
		if k := fmt.Appendf(nil, "d/koji/key-%d", i); !f.mayHave(k) {
			t.Fatalf("forgot %s", k)
		}
	}
	if rate := falsePositives(f, 100000); rate > 0.02 {
		// Each stage is sized for about 0.5 %; three of them, under 2 %.
		t.Errorf("false positive rate %.3f, want under 0.02", rate)
	}
}

func falsePositives(f *dedupFilter, probes int) float64 {
	fp := 0
	for i := range probes {
		if f.mayHave(fmt.Appendf(nil, "d/gather/other-%d", i)) {
			fp++
		}
	}
	return float64(fp) / float64(probes)
}

// A stage is dropped only once the newest key in it has expired in
// Badger (plus the margin), never before.
func TestDedupFilterDropsOnlyExpiredStages(t *testing.T) {
	const window = 168 * time.Hour
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	now := t0
	f := newDedupFilter(window, func() time.Time { return now })
	for i := range bloomMinCap { // exactly fills the first stage
		f.add(fmt.Appendf(nil, "d/koji/old-%d", i))
	}
	now = t0.Add(window + expiryMargin) // not yet past it
	f.add([]byte("d/koji/new-1"))
	f.add([]byte("d/koji/new-2"))
	if len(f.stages) != 2 || !f.mayHave([]byte("d/koji/old-7")) {
		t.Fatalf("%d stages; old key kept: %v; want both stages while the old keys may live", len(f.stages), f.mayHave([]byte("d/koji/old-7")))
	}
	now = now.Add(time.Second)
	f.add([]byte("d/koji/new-3"))
	if len(f.stages) != 1 {
		t.Fatalf("%d stages, want the expired one dropped", len(f.stages))
	}
	for _, k := range []string{"d/koji/new-1", "d/koji/new-2", "d/koji/new-3"} {
		if !f.mayHave([]byte(k)) {
			t.Errorf("forgot %s", k)
		}
	}
	if f.words != len(f.stages[0].bits) {
		t.Errorf("words %d, want %d", f.words, len(f.stages[0].bits))
	}
}

// However many keys arrive within one window, the filter stays within
// maxFilterBytes and still never forgets; it only answers "maybe" more.
func TestDedupFilterMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("adds ten million keys")
	}
	f := newDedupFilter(168*time.Hour, time.Now)
	const n = 10_000_000
	for i := range n {
		f.add(fmt.Appendf(nil, "d/koji/key-%d", i))
	}
	if bytes := f.words * 8; bytes > maxFilterBytes {
		t.Errorf("%d bytes, over the %d bound", bytes, maxFilterBytes)
	}
	for i := 0; i < n; i += 997 {
		if k := fmt.Appendf(nil, "d/koji/key-%d", i); !f.mayHave(k) {
			t.Fatalf("forgot %s", k)
		}
	}
	t.Logf("%d stages, %d bytes, false positives %.3f", len(f.stages), f.words*8, falsePositives(f, 20000))
}

// A key found at Open stays until Badger expires it, even when the
// window has been set shorter since it was written.
func TestDedupFilterKeepsKeysUntilBadgerExpiresThem(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	now := t0
	f := newDedupFilter(time.Minute, func() time.Time { return now })
	f.addExpiring([]byte("d/koji/long-lived"), now, t0.Add(72*time.Hour), false)
	for i := range bloomMinCap { // fills the first stage
		f.add(fmt.Appendf(nil, "d/koji/key-%d", i))
	}
	now = t0.Add(71 * time.Hour) // long past the new window, not past the key's expiry
	f.add([]byte("d/koji/new"))
	if len(f.stages) != 2 || !f.mayHave([]byte("d/koji/long-lived")) {
		t.Fatalf("%d stages, long-lived key kept: %v; want it kept until it expires", len(f.stages), f.mayHave([]byte("d/koji/long-lived")))
	}
	now = t0.Add(72*time.Hour + expiryMargin + time.Second)
	f.add([]byte("d/koji/newer"))
	if len(f.stages) != 1 {
		t.Fatalf("%d stages, want the expired one dropped", len(f.stages))
	}
}
