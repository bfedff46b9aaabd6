package inboxtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// A new delivery is archived whole; the same delivery again is a
// duplicate naming the first event, and adds nothing to the archive.
func testNewThenDuplicate(t *testing.T, e Engine) {
	s := open(t, e)
	ev := delivery(1, "koji/interview.completed/iv-1")
	want := *ev
	r := mustAccept(t, s, ev)
	if r.Duplicate || r.ID == "" || ev.ID != r.ID || ev.Seq == 0 || ev.Hash == "" {
		t.Fatalf("first accept: result %+v, event id %q seq %d", r, ev.ID, ev.Seq)
	}
	dup := mustAccept(t, s, delivery(1, "koji/interview.completed/iv-1"))
	if !dup.Duplicate || dup.ID != r.ID {
		t.Fatalf("second accept: got %+v, want duplicate of %s", dup, r.ID)
	}
	recs := mustExport(t, e, s)
	if len(recs) != 1 {
		t.Fatalf("archive holds %d events, want 1", len(recs))
	}
	got := recs[0]
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("body: got %q, want %q", got.Body, want.Body)
	}
	if got.ID != r.ID || got.Type != want.Type || got.InterviewID != want.InterviewID || got.RequestID != want.RequestID ||
		!got.ReceivedAt.Equal(want.ReceivedAt) || got.Verification != want.Verification ||
		fmt.Sprint(got.Headers) != fmt.Sprint(want.Headers) || fmt.Sprint(got.DedupKeys) != fmt.Sprint(want.DedupKeys) {
		t.Errorf("stored event differs:\n got %+v\nwant %+v", *got.Event, want)
	}
	verifyChain(t, recs)
}

// A delivery matching any one of an event's dedup keys is its duplicate.
func testDuplicateBySecondKey(t *testing.T, e Engine) {
	s := open(t, e)
	first := mustAccept(t, s, delivery(1, "specific-1", "broad-1"))
	r := mustAccept(t, s, delivery(2, "specific-2", "broad-1"))
	if !r.Duplicate || r.ID != first.ID {
		t.Fatalf("got %+v, want duplicate of %s", r, first.ID)
	}
}

// Identical deliveries arriving together yield one event; every answer
// names it.
func testSameDeliveryAtOnce(t *testing.T, e Engine) {
	s := open(t, e)
	results := acceptAll(t, s, 32, func(int) *inbox.Event { return delivery(7, "same-key") })
	news := 0
	for _, r := range results {
		if !r.Duplicate {
			news++
		}
		if r.ID != results[0].ID {
			t.Fatalf("answers name %s and %s", results[0].ID, r.ID)
		}
	}
	if news != 1 {
		t.Fatalf("%d answers say new, want 1", news)
	}
}

// Deliveries the store must take in an unusual form (over-long type or
// dedup key, NUL bytes, invalid UTF-8, empty body) do not fail the
// deliveries they are committed with, and are themselves archived.
func testBatchIsolation(t *testing.T, e Engine) {
	s := open(t, e)
	odd := []func(*inbox.Event){
		func(ev *inbox.Event) { ev.Type = strings.Repeat("t", 600) },
		func(ev *inbox.Event) { ev.InterviewID = "iv\x00nul" },
		func(ev *inbox.Event) { ev.InterviewID = "iv\xff\xfe" },
		func(ev *inbox.Event) { ev.DedupKeys = []string{strings.Repeat("k", 100_000)} },
		func(ev *inbox.Event) { ev.DedupKeys = []string{"nul\x00key"} },
		func(ev *inbox.Event) {
			ev.Body, ev.BodySize = []byte{}, 0
			ev.BodySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // of no bytes
		},
	}
	const good = 40
	results := acceptAll(t, s, good+len(odd), func(i int) *inbox.Event {
		ev := delivery(i, fmt.Sprintf("key-%d", i))
		if i >= good {
			odd[i-good](ev)
		}
		return ev
	})
	seen := map[string]bool{}
	for i, r := range results {
		if r.Duplicate || seen[r.ID] {
			t.Fatalf("delivery %d: %+v, want a new event of its own", i, r)
		}
		seen[r.ID] = true
	}
	if n := verifyChain(t, mustExport(t, e, s)); n != good+len(odd) {
		t.Fatalf("chain holds %d events, want %d", n, good+len(odd))
	}
}

// A quarantined event is archived but gets no outbox rows; an accepted
// one gets one per destination.
func testQuarantineNoOutbox(t *testing.T, e Engine) {
	s := open(t, e)
	q := delivery(1, "q")
	q.Status = inbox.StatusQuarantined
	rq := mustAccept(t, s, q)
	long := delivery(2, "long")
	long.InterviewID = strings.Repeat("i", 513) // quarantined by every engine: too long to forward
	rl := mustAccept(t, s, long)
	ra := mustAccept(t, s, delivery(3, "a"))
	pending, err := e.Pending(s)
	if err != nil {
		t.Fatal(err)
	}
	byEvent := map[string][]string{}
	for _, d := range pending {
		byEvent[d.EventID] = append(byEvent[d.EventID], d.Destination)
	}
	if len(byEvent[rq.ID]) != 0 || len(byEvent[rl.ID]) != 0 {
		t.Errorf("quarantined events queued: %v, %v", byEvent[rq.ID], byEvent[rl.ID])
	}
	if len(byEvent[ra.ID]) != 2 {
		t.Errorf("accepted event queued for %v, want app and audit", byEvent[ra.ID])
	}
	if len(mustExport(t, e, s)) != 3 {
		t.Error("quarantined events must still be archived")
	}
}

// Events accepted concurrently form one unbroken chain in seq order.
func testChainContinuity(t *testing.T, e Engine) {
	s := open(t, e)
	const n = 200
	acceptAll(t, s, n, func(i int) *inbox.Event { return delivery(i, fmt.Sprintf("chain-%d", i)) })
	if got := verifyChain(t, mustExport(t, e, s)); got != n {
		t.Fatalf("chain holds %d events, want %d", got, n)
	}
}

// Writers racing on overlapping keys store each key's event once, and
// every answer for a key names that event.
func testConcurrentWriters(t *testing.T, e Engine) {
	s := open(t, e)
	const writers, keys = 8, 50
	results := acceptAll(t, s, writers*keys, func(i int) *inbox.Event {
		return delivery(i%keys, fmt.Sprintf("overlap-%d", i%keys))
	})
	checkOnePerKey(t, results, keys)
	if got := verifyChain(t, mustExport(t, e, s)); got != keys {
		t.Fatalf("archive holds %d events, want %d", got, keys)
	}
}

// checkOnePerKey checks results of deliveries whose key is i%keys:
// exactly one new answer per key, every answer naming the same event.
func checkOnePerKey(t *testing.T, results []inbox.Result, keys int) {
	t.Helper()
	ids, news := make([]string, keys), make([]int, keys)
	for i, r := range results {
		k := i % keys
		if ids[k] == "" {
			ids[k] = r.ID
		}
		if r.ID != ids[k] {
			t.Fatalf("key %d: answers name %s and %s", k, ids[k], r.ID)
		}
		if !r.Duplicate {
			news[k]++
		}
	}
	for k, n := range news {
		if n != 1 {
			t.Fatalf("key %d: %d new answers, want 1", k, n)
		}
	}
}

// A store closed and opened again still knows its dedup keys, and
// extends the same chain.
func testReopenKeepsDedup(t *testing.T, e Engine) {
	s := e.Open(t)
	first := mustAccept(t, s, delivery(1, "reopen"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, e)
	r := mustAccept(t, s, delivery(1, "reopen"))
	if !r.Duplicate || r.ID != first.ID {
		t.Fatalf("after reopen: %+v, want duplicate of %s", r, first.ID)
	}
	mustAccept(t, s, delivery(2, "after-reopen"))
	if n := verifyChain(t, mustExport(t, e, s)); n != 2 {
		t.Fatalf("chain holds %d events, want 2", n)
	}
}

// The same delivery raced to two nodes: exactly one answer is new, both
// name the same event, and the nodes' events form one chain.
func testTwoNodesRace(t *testing.T, e Engine) {
	if !e.Features.MultiNode {
		t.Skip("not run: Features.MultiNode is false (the engine's store belongs to one process)")
	}
	a, b := open(t, e), open(t, e)
	const races = 200
	for i := range races {
		var ra, rb inbox.Result
		var ea, eb error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, x := range []struct {
			s   Store
			r   *inbox.Result
			err *error
		}{{a, &ra, &ea}, {b, &rb, &eb}} {
			ev := delivery(i, fmt.Sprintf("race-%d", i))
			wg.Go(func() {
				<-start
				*x.r, *x.err = x.s.Accept(context.Background(), ev)
			})
		}
		close(start)
		wg.Wait()
		if ea != nil || eb != nil {
			t.Fatalf("race %d: %v, %v", i, ea, eb)
		}
		if ra.ID != rb.ID || ra.Duplicate == rb.Duplicate {
			t.Fatalf("race %d: node a %+v, node b %+v", i, ra, rb)
		}
	}
	if n := verifyChain(t, mustExport(t, e, a)); n != races {
		t.Fatalf("chain holds %d events, want %d", n, races)
	}
	t.Logf("%d races: one new answer each, both nodes naming it; chain of %d verified", races, races)
}

// acceptAll accepts n deliveries at once, one goroutine each, released
// together, and returns the results in delivery order.
func acceptAll(t *testing.T, s Store, n int, ev func(i int) *inbox.Event) []inbox.Result {
	t.Helper()
	results := make([]inbox.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		e := ev(i)
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.Accept(context.Background(), e)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	return results
}

// Many writers on two nodes at once, on overlapping keys: one event per
// key across both nodes, every answer naming it, one chain.
func testTwoNodesConcurrentWriters(t *testing.T, e Engine) {
	if !e.Features.MultiNode {
		t.Skip("not run: Features.MultiNode is false (the engine's store belongs to one process)")
	}
	nodes := []Store{open(t, e), open(t, e)}
	const keys, perKey = 100, 4
	both := &twoNodes{Store: nodes[0], nodes: nodes}
	results := acceptAll(t, both, keys*perKey, func(i int) *inbox.Event {
		return delivery(i%keys, fmt.Sprintf("both-%d", i%keys))
	})
	checkOnePerKey(t, results, keys)
	if n := verifyChain(t, mustExport(t, e, nodes[0])); n != keys {
		t.Fatalf("chain holds %d events, want %d", n, keys)
	}
	t.Logf("%d deliveries of %d keys over two nodes: one event per key; chain of %d verified", keys*perKey, keys, keys)
}

// twoNodes sends deliveries to its nodes in turn; other calls go to the
// first.
type twoNodes struct {
	Store
	nodes []Store
	next  atomic.Int64
}

func (s *twoNodes) Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error) {
	return s.nodes[s.next.Add(1)%int64(len(s.nodes))].Accept(ctx, ev)
}

func (s *twoNodes) Close() error { return nil }

// withBody is delivery n with body b and the dedup keys logical, then b's
// body key, as the gateway builds them.
func withBody(n int, b string, logical string) *inbox.Event { return WithBody(delivery(n), b, logical) }

// WithBody gives ev body b and the dedup keys logical, then b's body key,
// as the gateway builds them, and returns it.
func WithBody(ev *inbox.Event, b, logical string) *inbox.Event {
	sum := sha256.Sum256([]byte(b))
	ev.Body, ev.BodySize, ev.BodySHA256 = []byte(b), len(b), hex.EncodeToString(sum[:])
	ev.DedupKeys = []string{logical, inbox.BodyKey(ev.BodySHA256)}
	return ev
}

// A duplicate whose bytes differ from every delivery archived before is
// answered as the duplicate it is and archived for its bytes (status
// duplicate, never forwarded); a resend of bytes already archived is
// only a sighting, even when many arrive at once.
func testDuplicateKeepsNewBytes(t *testing.T, e Engine) {
	s := open(t, e)
	first := mustAccept(t, s, withBody(1, `{"v":1}`, "logical-1"))
	r := mustAccept(t, s, withBody(1, `{"v":1, "retry":true}`, "logical-1"))
	if !r.Duplicate || r.ID != first.ID {
		t.Fatalf("differing duplicate: %+v, want a duplicate of %s", r, first.ID)
	}
	for _, res := range acceptAll(t, s, 8, func(int) *inbox.Event { return withBody(1, `{"v":1, "retry":true}`, "logical-1") }) {
		if !res.Duplicate || res.ID != first.ID {
			t.Errorf("resend of the kept bytes: %+v", res)
		}
	}
	mustAccept(t, s, withBody(1, `{"v":1}`, "logical-1"))
	rec := withBody(1, `{"v":1, "made":"by porch"}`, "logical-1")
	rec.Origin = inbox.OriginReconcile
	mustAccept(t, s, rec)

	recs := mustExport(t, e, s)
	if len(recs) != 2 {
		t.Fatalf("archive holds %d events, want the first and one copy", len(recs))
	}
	cp := recs[1]
	if cp.Status != inbox.StatusDuplicate || cp.DuplicateOf != first.ID || string(cp.Body) != `{"v":1, "retry":true}` || len(cp.Destinations) != 0 {
		t.Errorf("kept duplicate: status %q of %q, body %q, destinations %v", cp.Status, cp.DuplicateOf, cp.Body, cp.Destinations)
	}
	verifyChain(t, recs)
	got, err := s.Event(cp.ID)
	if err != nil || got.DuplicateOf != first.ID || got.Status != inbox.StatusDuplicate {
		t.Errorf("Event(%s): %+v, %v", cp.ID, got, err)
	}
	if _, err := s.Replay(cp.ID, "", inbox.ReplayRequest{By: "fp", Reason: "r"}); !errors.Is(err, inbox.ErrNotForwardable) || !strings.Contains(err.Error(), first.ID) {
		t.Errorf("replay of the kept duplicate: %v; want ErrNotForwardable naming %s", err, first.ID)
	}
	page, err := s.List(inbox.Query{Status: inbox.StatusDuplicate, Limit: 10})
	if err != nil || len(page.Events) != 1 || page.Events[0].ID != cp.ID {
		t.Errorf("list status duplicate: %+v, %v", page.Events, err)
	}

	for _, d := range mustClaim(t, s, later(), map[string]int{"app": 10, "audit": 10}, time.Minute) {
		if d.EventID != first.ID {
			t.Errorf("forwarding %s, a kept duplicate", d.EventID)
		}
	}

	// The copies of one event are found from it, newest first, and no
	// other event's.
	second := mustAccept(t, s, withBody(2, `{"v":2}`, "logical-2"))
	mustAccept(t, s, withBody(2, `{"v":2, "retry":true}`, "logical-2"))
	mustAccept(t, s, withBody(1, `{"v":1, "retry":2}`, "logical-1"))
	page, err = s.List(inbox.Query{DuplicateOf: first.ID, Limit: 10})
	var ids []string
	for _, ev := range page.Events {
		ids = append(ids, ev.ID)
		if ev.DuplicateOf != first.ID || ev.Status != inbox.StatusDuplicate {
			t.Errorf("copy of %s: %+v", first.ID, ev)
		}
	}
	if err != nil || len(ids) != 2 || ids[1] != cp.ID {
		t.Errorf("copies of %s: %v, %v; want the newer copy, then %s", first.ID, ids, err, cp.ID)
	}
	page, err = s.List(inbox.Query{DuplicateOf: second.ID, Status: inbox.StatusAccepted})
	if err != nil || len(page.Events) != 0 {
		t.Errorf("copies of %s with status accepted: %+v, %v; want none", second.ID, page.Events, err)
	}
	page, err = s.List(inbox.Query{DuplicateOf: second.ID})
	if err != nil || len(page.Events) != 1 || page.Events[0].DuplicateOf != second.ID {
		t.Errorf("copies of %s: %+v, %v", second.ID, page.Events, err)
	}
}
