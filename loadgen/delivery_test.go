package loadgen

import (
	"bytes"
	"testing"
	"time"

	"github.com/porchgw/porch/sender"
)

// The template shortcut must produce exactly the body Sample would.
func TestFreshMatchesSample(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, p := range sender.Names() {
		tg := &Target{Source: p, Provider: p, Secret: "s", URL: "http://x/in/" + p}
		g, err := NewGenerator([]*Target{tg}, 0, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		g.now = func() time.Time { return now }
		header := sender.SignatureHeader(p)
		for range 20 {
			d := g.Next()
			if want := sender.Sample(p, d.Event, d.InterviewID, now); !bytes.Equal(d.Body, want) {
				t.Fatalf("%s %s: body\n%s\nwant\n%s", p, d.Event, d.Body, want)
			}
			if got, want := d.Header, sender.Sign(p, d.Body, "s", now); got.Get(header) != want.Get(header) {
				t.Fatalf("%s: signature %v, want %v", p, got, want)
			}
		}
	}
}

func TestGeneratorMix(t *testing.T) {
	tg := &Target{Source: "koji", Provider: "koji", Secret: "s", URL: "http://x/in/koji"}
	g, err := NewGenerator([]*Target{tg}, 0.2, 0.1, 7)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]int{}
	ids := map[string]bool{}
	const n = 5000
	for range n {
		d := g.Next()
		kinds[d.Kind]++
		if d.Kind == Fresh {
			if ids[d.InterviewID] {
				t.Fatalf("fresh delivery reuses interview id %s", d.InterviewID)
			}
			ids[d.InterviewID] = true
		}
	}
	if kinds[Dup] < n/10 || kinds[Dup] > 3*n/10 || kinds[Bad] < n/20 || kinds[Bad] > 2*n/10 {
		t.Errorf("kinds = %v, want about 20%% dup and 10%% bad", kinds)
	}
}

func TestNewGeneratorRejectsBadFractions(t *testing.T) {
	tg := &Target{Source: "koji", Provider: "koji", Secret: "s"}
	for _, f := range [][2]float64{{-0.1, 0}, {0, -1}, {0.6, 0.5}} {
		if _, err := NewGenerator([]*Target{tg}, f[0], f[1], 1); err == nil {
			t.Errorf("dup %v bad %v accepted", f[0], f[1])
		}
	}
	if _, err := NewGenerator(nil, 0, 0, 1); err == nil {
		t.Error("no targets accepted")
	}
}
