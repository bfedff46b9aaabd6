package inboxtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// A store cut off (Engine.Crash) while writers are in the middle of
// Accept and the forwarder holds claims, then opened afresh on what the
// crash left, holds every delivery whose Accept returned nil: under the
// same id, its body byte for byte, its dedup keys naming it, its
// sightings counted. The chain verifies end to end; every event in it
// is whole, and has the outbox entries it was queued with, less those
// settled before the crash; a claim taken before the crash comes back
// once its lease has passed. A delivery whose Accept failed may be there
// or not, but never in part. The store then goes on accepting, and its
// new events chain on.
func testCrashMidAccept(t *testing.T, e Engine) {
	if e.Crash == nil {
		t.Fatal("Engine.Crash is nil: every engine must say how its store is cut off")
	}
	s := open(t, e)
	now := later()
	load := &crashLoad{sent: map[string]*crashSent{}}
	fw := forwardBeforeCrash(t, s, load, now)
	load.start(t, s, now)
	load.waitAcked(t, 200)
	s2 := e.Crash(t, s)
	t.Cleanup(func() { s2.Close() })
	load.stop()

	recs := mustExport(t, e, s2)
	checkCrashArchive(t, s2, load, recs)
	checkCrashAcked(t, s2, load, recs)
	checkCrashOutbox(t, e, s2, recs, fw)
	checkCrashClaims(t, s2, load, recs, fw, now)
	checkGoesOn(t, e, s2, load, recs)
	t.Logf("%d deliveries acknowledged, %d tried in all, %d events stored; %d claims taken under load came back",
		load.acked, len(load.sent), len(recs), len(load.claimed))
}

// crashDelivery is delivery n of the crash case, the same each time it is
// built: every third has a body of some kilobytes, so that bodies are
// stored both inline and apart (Badger's value log).
func crashDelivery(n int) *inbox.Event {
	key := fmt.Sprintf("crash-%d", n)
	if n%3 != 0 {
		return delivery(n, key)
	}
	body := fmt.Sprintf(`{"event":"interview.completed","interview_id":"iv-%d","transcript":"%s"}`, n, incompressible(key, 2000+n%7*1000))
	return WithBody(delivery(n), body, key)
}

// crashSent is one delivery the case tried, and what became of it.
type crashSent struct {
	n  int
	ev *inbox.Event // as the Accept that returned nil filled it in; nil while none has
	// resent counts the copies sent again to be sightings, resentAcked
	// those answered as duplicates.
	resent, resentAcked int
}

// forwarded is what the forwarder did before the load began: of six
// events' app entries it acked two, retried one (due at retryAt), and
// still held the other three when the store was cut off.
type forwarded struct {
	acked   map[string]bool // event ids
	retried string
	retryAt time.Time
	held    []inbox.Delivery
}

// forwardBeforeCrash accepts six events and settles some of their app
// entries as the forwarder would, at now.
func forwardBeforeCrash(t *testing.T, s Store, load *crashLoad, now time.Time) forwarded {
	t.Helper()
	for n := 1_000_000; n < 1_000_006; n++ {
		ev := crashDelivery(n)
		mustAccept(t, s, ev)
		load.sent[ev.DedupKeys[0]] = &crashSent{n: n, ev: ev}
		load.acked++
	}
	due := mustClaim(t, s, now, map[string]int{"app": 10}, time.Minute)
	if len(due) != 6 {
		t.Fatalf("claim before the load: %v, want the six events' app entries", ids(due))
	}
	fw := forwarded{acked: map[string]bool{}, retried: due[2].EventID, retryAt: now.Add(10 * time.Minute), held: due[3:]}
	for _, d := range due[:2] {
		if err := s.Ack(d, sent(now)); err != nil {
			t.Fatal(err)
		}
		fw.acked[d.EventID] = true
	}
	a := sent(now)
	if err := s.Retry(due[2], fw.retryAt, &a); err != nil {
		t.Fatal(err)
	}
	return fw
}

// crashLoad is the traffic a crash cuts into: writers accepting new
// deliveries and sending acknowledged ones again, and a forwarder
// claiming app entries (never settling them) at now.
type crashLoad struct {
	mu      sync.Mutex
	sent    map[string]*crashSent // by first dedup key
	acked   int                   // new deliveries acknowledged
	claimed []inbox.Delivery      // what Claim returned
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

const crashWriters = 8

func (l *crashLoad) start(t *testing.T, s Store, now time.Time) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for w := range crashWriters {
		l.wg.Go(func() { l.write(ctx, t, s, w) })
	}
	l.wg.Go(func() { l.claim(ctx, t, s, now) })
}

// write is writer w: deliveries w, w+crashWriters, ..., and every fourth
// time one of those it had acknowledged again, until ctx ends.
func (l *crashLoad) write(ctx context.Context, t *testing.T, s Store, w int) {
	var mine []*crashSent
	for i, n := 0, w; ctx.Err() == nil; i++ {
		if i%4 == 3 && len(mine) > 0 {
			l.resend(ctx, t, s, mine[i%len(mine)])
			continue
		}
		c := &crashSent{n: n}
		ev := crashDelivery(n)
		n += crashWriters
		l.mu.Lock()
		l.sent[ev.DedupKeys[0]] = c
		l.mu.Unlock()
		r, err := s.Accept(ctx, ev)
		if err != nil {
			time.Sleep(time.Millisecond) // the store is cut off: no need to spin
			continue
		}
		if r.Duplicate || r.ID != ev.ID {
			t.Errorf("new delivery %d: %+v, want a new event", c.n, r)
		}
		l.mu.Lock()
		c.ev = ev
		l.acked++
		l.mu.Unlock()
		mine = append(mine, c)
	}
}

// resend sends c again, which must be a sighting of c's event.
func (l *crashLoad) resend(ctx context.Context, t *testing.T, s Store, c *crashSent) {
	l.mu.Lock()
	c.resent++
	l.mu.Unlock()
	r, err := s.Accept(ctx, crashDelivery(c.n))
	if err != nil {
		time.Sleep(time.Millisecond)
		return
	}
	if !r.Duplicate || r.ID != c.ev.ID {
		t.Errorf("delivery %d again: %+v, want a duplicate of %s", c.n, r, c.ev.ID)
	}
	l.mu.Lock()
	c.resentAcked++
	l.mu.Unlock()
}

// claim claims app entries as they are queued, until ctx ends.
func (l *crashLoad) claim(ctx context.Context, t *testing.T, s Store, now time.Time) {
	for ctx.Err() == nil {
		due, _, err := s.Claim(now, map[string]int{"app": 8}, time.Minute)
		l.mu.Lock()
		l.claimed = append(l.claimed, due...)
		l.mu.Unlock()
		if err != nil || len(due) == 0 {
			select {
			case <-ctx.Done():
			case <-s.Wake():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// waitAcked waits until n new deliveries were acknowledged.
func (l *crashLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		acked := l.acked
		l.mu.Unlock()
		if acked >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries acknowledged in a minute, want %d before the crash", acked, n)
		}
	}
}

// stop ends the load once the store is cut off: calls still waiting
// return with their context.
func (l *crashLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

// checkCrashArchive checks that the chain verifies end to end and that
// every event in it is a delivery the case sent, whole, stored once.
func checkCrashArchive(t *testing.T, s Store, l *crashLoad, recs []inbox.Record) {
	t.Helper()
	verifyChain(t, recs)
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.OK || rep.Checked != len(recs) {
		t.Fatalf("verify after the crash: %+v (broken %+v), %v; want %d links", rep, rep.Broken, err, len(recs))
	}
	stored := map[string]string{}
	for _, r := range recs {
		sum := sha256.Sum256(r.Body)
		if hex.EncodeToString(sum[:]) != r.BodySHA256 || len(r.Body) != r.BodySize {
			t.Errorf("event %s: body of %d bytes does not match its size %d and digest", r.ID, len(r.Body), r.BodySize)
		}
		c := l.sent[r.DedupKeys[0]]
		if c == nil {
			t.Errorf("event %s (keys %v) is no delivery the case sent", r.ID, r.DedupKeys)
			continue
		}
		if id, ok := stored[r.DedupKeys[0]]; ok {
			t.Errorf("delivery %d stored twice: %s and %s", c.n, id, r.ID)
		}
		stored[r.DedupKeys[0]] = r.ID
		if !bytes.Equal(r.Body, crashDelivery(c.n).Body) {
			t.Errorf("event %s: body differs from delivery %d's", r.ID, c.n)
		}
		if ev, err := s.EventWithBody(r.ID); err != nil || !bytes.Equal(ev.Body, r.Body) {
			t.Errorf("event %s for forwarding: %v", r.ID, err)
		}
	}
}

// checkCrashAcked checks that every delivery acknowledged before the
// crash is stored as Accept described it.
func checkCrashAcked(t *testing.T, s Store, l *crashLoad, recs []inbox.Record) {
	t.Helper()
	byID := map[string]inbox.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	for _, c := range l.sent {
		if c.ev == nil {
			continue
		}
		r, ok := byID[c.ev.ID]
		if !ok {
			t.Errorf("acknowledged delivery %d (event %s) lost in the crash", c.n, c.ev.ID)
			continue
		}
		if r.Seq != c.ev.Seq || r.Hash != c.ev.Hash || !bytes.Equal(r.Body, c.ev.Body) {
			t.Errorf("event %s: seq %d hash %s, acknowledged as seq %d hash %s", r.ID, r.Seq, r.Hash, c.ev.Seq, c.ev.Hash)
		}
		if body, err := s.Body(c.ev.ID); err != nil || !bytes.Equal(body, c.ev.Body) {
			t.Errorf("body of %s: %v, or not the bytes acknowledged", c.ev.ID, err)
		}
		for _, k := range c.ev.DedupKeys {
			if holder, err := s.LookupDedup(c.ev.Source, k); err != nil || holder != c.ev.ID {
				t.Errorf("dedup key %.40q: held by %q (%v), want %s", k, holder, err, c.ev.ID)
			}
		}
		if sg, err := s.Sightings(c.ev.ID); err != nil || sg.Count < c.resentAcked || sg.Count > c.resent {
			t.Errorf("sightings of %s: %d (%v); %d sent again, %d acknowledged", c.ev.ID, sg.Count, err, c.resent, c.resentAcked)
		}
	}
}

// checkCrashOutbox checks that every stored event has an outbox entry
// per destination, except the entries settled before the crash, and
// that nothing else is queued.
func checkCrashOutbox(t *testing.T, e Engine, s Store, recs []inbox.Record, fw forwarded) {
	t.Helper()
	pending, err := e.Pending(s)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range pending {
		got[d.EventID+"/"+d.Destination]++
	}
	for _, k := range wantQueued(recs, fw, "app", "audit") {
		if got[k] != 1 {
			t.Errorf("outbox entry %s: %d after the crash, want 1", k, got[k])
		}
		delete(got, k)
	}
	for k := range got {
		t.Errorf("outbox entry %s: queued, but not by an event in the archive, or settled before the crash", k)
	}
}

// wantQueued lists, as "<id>/<destination>", the entries of dests that
// recs queued and the forwarder did not ack.
func wantQueued(recs []inbox.Record, fw forwarded, dests ...string) []string {
	var out []string
	for _, r := range recs {
		for _, d := range r.Destinations {
			if r.Status == inbox.StatusAccepted && slices.Contains(dests, d) && !(d == "app" && fw.acked[r.ID]) {
				out = append(out, r.ID+"/"+d)
			}
		}
	}
	return out
}

// checkCrashClaims checks that, once their lease has passed, the claims
// taken before the crash come back with every other app entry due, and
// the retried entry at its time.
func checkCrashClaims(t *testing.T, s Store, l *crashLoad, recs []inbox.Record, fw forwarded, now time.Time) {
	t.Helper()
	app := map[string]int{"app": len(recs) + 10}
	back := map[string]bool{}
	for _, d := range mustClaim(t, s, now.Add(2*time.Minute), app, time.Hour) {
		back[d.EventID+"/app"] = true
	}
	for _, d := range slices.Concat(fw.held, l.claimed) {
		if !back[d.EventID+"/app"] {
			t.Errorf("claim of %s taken before the crash: not back after its lease", d.EventID)
		}
	}
	want := wantQueued(recs, fw, "app")
	if len(back) != len(want)-1 || back[fw.retried+"/app"] {
		t.Errorf("after the lease: %d app entries claimed, want the %d queued but the one retried later (%s: claimed %v)",
			len(back), len(want)-1, fw.retried, back[fw.retried+"/app"])
	}
	retry := mustClaim(t, s, fw.retryAt, app, time.Hour)
	if len(retry) != 1 || retry[0].EventID != fw.retried || retry[0].Attempts != 1 {
		t.Errorf("at the retry: %v (%+v), want %s with its attempt", ids(retry), retry, fw.retried)
	}
}

// checkGoesOn checks that the store accepts after the crash: what was
// stored is a duplicate of the same event, what was not is new, and new
// events extend the chain.
func checkGoesOn(t *testing.T, e Engine, s Store, l *crashLoad, recs []inbox.Record) {
	t.Helper()
	stored := map[string]string{}
	for _, r := range recs {
		stored[r.DedupKeys[0]] = r.ID
	}
	var again []*crashSent
	for _, c := range l.sent {
		again = append(again, c)
	}
	results := acceptAll(t, s, len(again)+10, func(i int) *inbox.Event {
		if i < len(again) {
			return crashDelivery(again[i].n)
		}
		return crashDelivery(2_000_000 + i)
	})
	news := 0
	for i, r := range results {
		id, ok := "", false
		if i < len(again) {
			id, ok = stored[crashDelivery(again[i].n).DedupKeys[0]]
		}
		if r.Duplicate != ok || (ok && r.ID != id) {
			t.Errorf("delivery sent after the crash: %+v, want a duplicate of %q (stored: %v)", r, id, ok)
		}
		if !r.Duplicate {
			news++
		}
	}
	after := mustExport(t, e, s)
	if n := verifyChain(t, after); n != len(recs)+news {
		t.Fatalf("chain after the crash holds %d events, want %d and %d new", n, len(recs), news)
	}
	if after[len(recs)-1].ID != recs[len(recs)-1].ID {
		t.Errorf("chain rewritten: its event %d is %s, was %s", len(recs), after[len(recs)-1].ID, recs[len(recs)-1].ID)
	}
}
