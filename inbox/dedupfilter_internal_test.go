package inbox

import (
	"fmt"
	"testing"
)

// The filter may answer "maybe" for a key it never saw, but never "no"
// for one it did, across the stages it grows into. (That Open rebuilds
// it from the store, TestReopenKeepsEventsDedupAndChain checks.)
func TestDedupFilterNeverForgets(t *testing.T) {
	f := newDedupFilter()
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
	fp := 0
	const probes = 100000
	for i := range probes {
		if f.mayHave(fmt.Appendf(nil, "d/gather/other-%d", i)) {
			fp++
		}
	}
	// Each stage is sized for about 0.5 %; three of them, under 2 %.
	if rate := float64(fp) / probes; rate > 0.02 {
		t.Errorf("false positive rate %.3f, want under 0.02", rate)
	}
}
