package inboxtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// archived accepts n deliveries and returns their ids in chain order:
// interviews "IV-Alpha-<i>" of source koji, every third one instead of
// source gather, type form.submitted, interview "iv-beta".
func archived(t *testing.T, s Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ev := delivery(i, fmt.Sprint("key-", i))
		ev.InterviewID = fmt.Sprint("IV-Alpha-", i)
		if i%3 == 2 {
			ev.Source, ev.Provider, ev.Type, ev.InterviewID = "gather", "gather", "form.submitted", "iv-beta"
		}
		ids[i] = mustAccept(t, s, ev).ID
	}
	return ids
}

func pageIDs(p inbox.Page) []string {
	out := make([]string, len(p.Events))
	for i, e := range p.Events {
		out[i] = e.ID
	}
	return out
}

// newestFirst is ids (in chain order) filtered by keep, newest first.
func newestFirst(ids []string, keep func(i int, id string) bool) []string {
	var out []string
	for i := len(ids) - 1; i >= 0; i-- {
		if keep(i, ids[i]) {
			out = append(out, ids[i])
		}
	}
	return out
}

// Events are read back by id as accepted; unknown ids are ErrNotFound;
// a duplicate is a sighting and its key leads to the first event.
func testReadsByID(t *testing.T, e Engine) {
	s := open(t, e)
	ev := delivery(1, "rk-1")
	want := *ev
	id := mustAccept(t, s, ev).ID
	mustAccept(t, s, delivery(1, "rk-1"))
	got, err := s.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Seq != ev.Seq || got.Hash != ev.Hash || got.InterviewID != want.InterviewID ||
		got.BodySHA256 != want.BodySHA256 || !got.ReceivedAt.Equal(want.ReceivedAt) || got.Body != nil {
		t.Errorf("event: got %+v", got)
	}
	body, err := s.Body(id)
	if err != nil || !bytes.Equal(body, want.Body) {
		t.Errorf("body: got %q, %v; want %q", body, err, want.Body)
	}
	sg, err := s.Sightings(id)
	if err != nil || sg.Count != 1 || len(sg.Recent) != 1 || sg.Recent[0].DedupKey != "rk-1" || sg.First.IsZero() {
		t.Errorf("sightings: %+v, %v", sg, err)
	}
	if holder, err := s.LookupDedup("koji", "rk-1"); err != nil || holder != id {
		t.Errorf("lookup dedup: %q, %v; want %s", holder, err, id)
	}
	unknown := "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	if _, err := s.Event(unknown); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}
	if _, err := s.Body(unknown); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("unknown body: %v", err)
	}
	if _, err := s.LookupDedup("koji", "no-such-key"); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("unknown dedup key: %v", err)
	}
	if sg, err := s.Sightings(unknown); err != nil || sg.Count != 0 {
		t.Errorf("sightings of unknown: %+v, %v", sg, err)
	}
}

// Every filter of inbox.Query selects what it says, newest first, and
// pages continue without repeats or gaps.
func testListFiltersAndPaging(t *testing.T, e Engine) {
	s := open(t, e)
	ids := archived(t, s, 9)
	all := newestFirst(ids, func(int, string) bool { return true })
	var paged []string
	q := inbox.Query{Limit: 2}
	for n := 0; ; n++ {
		p, err := s.List(q)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, pageIDs(p)...)
		if p.NextCursor == "" {
			break
		}
		if n > len(ids) {
			t.Fatal("paging does not end")
		}
		q.Cursor = p.NextCursor
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paged: %v, want %v", paged, all)
	}
	gather := func(i int, _ string) bool { return i%3 == 2 }
	koji := func(i int, _ string) bool { return i%3 != 2 }
	first := ids[0]
	for _, c := range []struct {
		name string
		q    inbox.Query
		want []string
	}{
		{"source", inbox.Query{Source: "gather"}, newestFirst(ids, gather)},
		{"type", inbox.Query{Type: "interview.completed"}, newestFirst(ids, koji)},
		{"source and type", inbox.Query{Source: "koji", Type: "form.submitted"}, nil},
		{"interview", inbox.Query{InterviewID: "IV-Alpha-4"}, []string{ids[4]}},
		{"interview, exactly", inbox.Query{InterviewID: "iv-alpha-4"}, nil},
		{"interview of another source", inbox.Query{InterviewID: "IV-Alpha-4", Source: "gather"}, nil},
		{"interview prefix any case", inbox.Query{InterviewPrefix: "iv-aLPHA-"}, newestFirst(ids, koji)},
		{"interview prefix", inbox.Query{InterviewPrefix: "IV-B"}, newestFirst(ids, gather)},
		{"status", inbox.Query{Status: inbox.StatusQuarantined}, nil},
		{"id prefix lower case", inbox.Query{IDPrefix: strings.ToLower(first)}, []string{first}},
		{"until", inbox.Query{Until: inbox.IDTime(first)}, nil},
		{"since", inbox.Query{Since: inbox.IDTime(ids[5])}, newestFirst(ids, func(_ int, id string) bool {
			return !inbox.IDTime(id).Before(inbox.IDTime(ids[5]))
		})},
		{"limit", inbox.Query{Source: "koji", Limit: 1}, newestFirst(ids, koji)[:1]},
	} {
		p, err := s.List(c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := pageIDs(p); !slices.Equal(got, c.want) && len(got)+len(c.want) > 0 {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := s.List(inbox.Query{Cursor: "not-an-id"}); !errors.Is(err, inbox.ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
	// Case is folded rune by rune as Go folds it: the Kelvin sign is a K.
	ev := delivery(50, "kelvin")
	ev.InterviewID = "\u212Aelvin-1"
	id := mustAccept(t, s, ev).ID
	if p, err := s.List(inbox.Query{InterviewPrefix: "kELV"}); err != nil || !slices.Equal(pageIDs(p), []string{id}) {
		t.Errorf("folded prefix: %v, %v; want %s", pageIDs(p), err, id)
	}
}

func exportIDs(t *testing.T, s Store, q inbox.Query, export bool) []string {
	t.Helper()
	var ids []string
	fn := func(r inbox.Record) error {
		if r.BodySize != len(r.Body) {
			return fmt.Errorf("record %s: body of %d bytes, body_size %d", r.ID, len(r.Body), r.BodySize)
		}
		ids = append(ids, r.ID)
		return nil
	}
	var err error
	if export {
		err = s.Export(context.Background(), q.Since, q.Until, fn)
	} else {
		err = s.ExportMatching(context.Background(), q, fn)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// Export gives the events of a time range in chain order with their
// bodies, and an export of the whole archive verifies offline;
// ExportMatching applies the query's filters.
func testExportRanges(t *testing.T, e Engine) {
	s := open(t, e)
	ids := archived(t, s, 7)
	if got := exportIDs(t, s, inbox.Query{}, true); !slices.Equal(got, ids) {
		t.Fatalf("export: %v, want %v", got, ids)
	}
	verifyChain(t, mustExport(t, e, s))
	since, until := inbox.IDTime(ids[2]), inbox.IDTime(ids[5])
	var want []string
	for _, id := range ids {
		if at := inbox.IDTime(id); !at.Before(since) && at.Before(until) {
			want = append(want, id)
		}
	}
	if got := exportIDs(t, s, inbox.Query{Since: since, Until: until}, true); !slices.Equal(got, want) {
		t.Errorf("export [%v, %v): %v, want %v", since, until, got, want)
	}
	got := exportIDs(t, s, inbox.Query{Source: "gather", Limit: 1, Cursor: ids[0]}, false)
	if !slices.Equal(got, []string{ids[2], ids[5]}) {
		t.Errorf("export matching source: %v", got)
	}
	if got := exportIDs(t, s, inbox.Query{InterviewPrefix: "iv-alpha-1"}, false); !slices.Equal(got, []string{ids[1]}) {
		t.Errorf("export matching interview prefix: %v", got)
	}
}

// Verify passes an intact archive and names the event whose stored body
// was altered.
func testVerifyFindsTamperedBody(t *testing.T, e Engine) {
	s := open(t, e)
	ids := archived(t, s, 5)
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.OK || rep.Checked != 5 || rep.LastSeq != rep.StartSeq+5 {
		t.Fatalf("intact: %+v, %v", rep, err)
	}
	if err := e.Tamper(s, ids[2]); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Verify(context.Background())
	if err != nil || rep.OK || rep.Broken == nil || rep.Broken.ID != ids[2] || rep.Checked != 2 {
		t.Fatalf("tampered: %+v (broken %v), %v", rep, rep.Broken, err)
	}
}

// Bytes a sender writes that are not UTF-8 (a header, the Content-Type,
// the body's timestamp) are archived as the archive's JSON stores them,
// and the chain still verifies: a hash over the raw bytes would not, and
// would read as tampering to an auditor.
func testVerifyAcceptsSendersBadBytes(t *testing.T, e Engine) {
	s := open(t, e)
	ev := delivery(1, "k/bad-bytes")
	ev.Headers = map[string][]string{"User-Agent": {"Koji\xff/1.0"}, "X-\xfe": {"v"}}
	ev.ContentType, ev.RemoteAddr = "application/json; x=\xff", "203.0.113.7\xfe:1"
	ev.Verification.Timestamp = "1764000000\xc3"
	if _, err := s.Accept(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(context.Background(), delivery(2, "k/after")); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.OK || rep.Checked != 2 {
		t.Fatalf("verify: %+v (broken %+v), %v", rep, rep.Broken, err)
	}
}

// incompressible is n bytes of hex that no compressor shortens much.
func incompressible(seed string, n int) string {
	var b strings.Builder
	for sum := sha256.Sum256([]byte(seed)); b.Len() < n; sum = sha256.Sum256(sum[:]) {
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

// A signed delivery whose type or interview id is longer than any index
// entry may be (PostgreSQL's btree takes about 2,700 bytes) is archived
// quarantined, read back whole, found by an exact search, and verifies.
func testLongTypeAndInterviewID(t *testing.T, e Engine) {
	s := open(t, e)
	longType, longID := incompressible("type", 4000), incompressible("interview", 4000)
	ev := delivery(1, "k/long-type")
	ev.Type = longType
	iv := delivery(2, "k/long-interview")
	iv.InterviewID = longID
	var ids []string
	for _, d := range []*inbox.Event{ev, iv, delivery(3, "k/after")} {
		r, err := s.Accept(context.Background(), d)
		if err != nil || r.Duplicate {
			t.Fatalf("accept: %+v, %v", r, err)
		}
		ids = append(ids, r.ID)
	}
	for i, want := range []struct{ typ, id string }{{longType, ev.InterviewID}, {iv.Type, longID}} {
		got, err := s.Event(ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != want.typ || got.InterviewID != want.id || got.Status != inbox.StatusQuarantined {
			t.Errorf("event %d read back type %.20q…, interview %.20q…, status %s", i, got.Type, got.InterviewID, got.Status)
		}
	}
	for _, q := range []inbox.Query{{Type: longType}, {Source: "koji", Type: longType}, {InterviewID: longID}} {
		p, err := s.List(q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 1 {
			t.Errorf("exact search finds %d events, want 1", len(p.Events))
		}
	}
	if p, err := s.List(inbox.Query{Type: longType[:3999]}); err != nil || len(p.Events) != 0 {
		t.Errorf("search for a shorter type finds %d events, %v", len(p.Events), err)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.OK || rep.Checked != 3 {
		t.Fatalf("verify: %+v (broken %+v), %v", rep, rep.Broken, err)
	}
}

// Types short enough to forward keep their stored form everywhere, even
// one that looks like a bounded key ("%#…") or that storing makes longer
// (NULs, which some engines store as U+FFFD): the event is accepted, an
// exact search finds it, and its dead letter names the event's type.
func testOddShortTypesForwarded(t *testing.T, e Engine) {
	s := openOutbox(t, e)
	types := []string{"%#interview.completed", strings.Repeat("\x00", inbox.MaxKeyPart)}
	stored := map[string]string{}      // event id: its type as read back
	received := map[string]time.Time{} // and when it was received
	for i, typ := range types {
		ev := delivery(i, fmt.Sprint("odd-type-", i))
		ev.Type = typ
		ev.ReceivedAt = ev.ReceivedAt.Truncate(time.Microsecond).Add(123 * time.Nanosecond)
		id := mustAccept(t, s, ev).ID
		got, err := s.Event(id)
		if err != nil || got.Status != inbox.StatusAccepted {
			t.Fatalf("type %.12q: event %+v, %v", typ, got, err)
		}
		stored[id], received[id] = got.Type, got.ReceivedAt
		if p, err := s.List(inbox.Query{Type: typ}); err != nil || len(p.Events) != 1 || p.Events[0].ID != id {
			t.Errorf("type %.12q: exact search finds %d events, %v", typ, len(p.Events), err)
		}
	}
	now := later()
	for _, d := range mustClaim(t, s, now, map[string]int{"app": len(types)}, time.Minute) {
		a := sent(now)
		if err := s.DeadLetter(d, &a, "gave up"); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range types {
		dls, err := s.DeadLetters(inbox.DeadLetterFilter{Type: typ})
		if err != nil || len(dls) != 1 || dls[0].Type != stored[dls[0].EventID] {
			t.Errorf("type %.12q: dead letters by type %+v, %v; want one naming its event's type", typ, dls, err)
			continue
		}
		if r := received[dls[0].EventID]; !dls[0].ReceivedAt.Equal(r) || r.Nanosecond()%1000 != 123 {
			t.Errorf("dead letter received at %s, its event at %s", dls[0].ReceivedAt.Format(time.RFC3339Nano), r.Format(time.RFC3339Nano))
		}
	}
}

// Reads take any argument a caller can send: filters holding NUL or
// invalid UTF-8 match nothing rather than fail, a paging bound beyond
// every sequence number pages from the newest, and a huge query or id is
// stored bounded on the trail.
func testOddReadArguments(t *testing.T, e Engine) {
	s := open(t, e)
	mustAccept(t, s, delivery(1, "odd-args"))
	for _, f := range []inbox.DeadLetterFilter{{Source: "\x00"}, {Destination: "\xff\xfe"}, {Type: "a\x00*"}, {Source: "k\xc3("}} {
		if dls, err := s.DeadLetters(f); err != nil || len(dls) != 0 {
			t.Errorf("dead letters %+v: %+v, %v", f, dls, err)
		}
	}
	s.LogRejection(inbox.Rejection{At: time.Now(), Kind: "rejected", Source: "koji", Reason: "r", Status: 401})
	huge := strings.Repeat("q", 1<<20)
	if err := s.LogAccess(inbox.Access{Token: "fp", Role: "auditor", Action: "search", Query: huge, EventIDs: []string{"01J", huge}}); err != nil {
		t.Fatal(err)
	}
	for _, before := range []uint64{0, 1 << 31, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		trail, err := s.AccessTrail(before, 10)
		if err != nil || len(trail) != 1 {
			t.Fatalf("trail before %d: %d entries, %v", before, len(trail), err)
		}
		if a := trail[0]; len(a.Query) > inbox.MaxTrailQueryBytes+len("…") || len(a.EventIDs) != 2 || a.EventIDs[0] != "01J" || len(a.EventIDs[1]) > 200 {
			t.Errorf("trail entry not bounded: query %d bytes, ids %d", len(a.Query), len(a.EventIDs))
		}
	}
	// The rejection is written in the background.
	deadline := time.Now().Add(10 * time.Second)
	for _, before := range []uint64{0, 1 << 31, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		for {
			list, err := s.Rejections(before, 10)
			if err != nil {
				t.Fatalf("rejections before %d: %v", before, err)
			}
			if len(list) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rejections before %d: %d entries", before, len(list))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Each trail class is bounded on its own: searches push out only older
// searches, sensitive reads only older sensitive reads, and drops are
// counted per class.
func testTrailClassesBounded(t *testing.T, e Engine) {
	s := e.OpenBounded(t, Bounds{TrailSearchSize: 3, TrailLogSize: 4})
	t.Cleanup(func() { s.Close() })
	logAccess := func(action string, n int) {
		for i := range n {
			if err := s.LogAccess(inbox.Access{Token: "fp", Role: "auditor", Action: action, Query: fmt.Sprint(action, i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	logAccess("view", 2)
	logAccess("search", 10)
	logAccess("export", 6)
	trail, err := s.AccessTrail(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, a := range trail {
		got = append(got, a.Query)
		if a.At.IsZero() || (i > 0 && a.Seq >= trail[i-1].Seq) {
			t.Errorf("entry %d: %+v", i, a)
		}
	}
	want := []string{"export5", "export4", "export3", "export2", "search9", "search8", "search7"}
	if !slices.Equal(got, want) {
		t.Fatalf("trail: %v, want %v", got, want)
	}
	if d := s.TrailDropped(); d[inbox.TrailSearch] != 7 || d[inbox.TrailSensitive] != 4 {
		t.Errorf("dropped: %v", d)
	}
	older, err := s.AccessTrail(trail[3].Seq, 2)
	if err != nil || len(older) != 2 || older[0].Query != "search9" {
		t.Errorf("page before seq %d: %+v, %v", trail[3].Seq, older, err)
	}
}

// The rejection log keeps the newest entries within its bounds, across a
// restart, with headers bounded.
func testRejectionLogBounded(t *testing.T, e Engine) {
	b := Bounds{RejectedLogSize: 5}
	s := e.OpenBounded(t, b)
	for i := range 12 {
		s.LogRejection(inbox.Rejection{At: time.Now(), Kind: "rejected", Source: "koji", Reason: fmt.Sprint("r", i),
			Status: 401, Headers: map[string][]string{"X-Long": {strings.Repeat("v", 1000)}}})
	}
	s.Close() // writes what is queued
	s = e.OpenBounded(t, b)
	t.Cleanup(func() { s.Close() })
	list, err := s.Rejections(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, r := range list {
		got = append(got, r.Reason)
		if i > 0 && r.Seq >= list[i-1].Seq {
			t.Errorf("seq %d after %d", r.Seq, list[i-1].Seq)
		}
		if v := r.Headers["X-Long"]; len(v) != 1 || len(v[0]) > inbox.MaxHeaderValueBytes+len("…") {
			t.Errorf("headers not bounded: %d values", len(v))
		}
	}
	if want := []string{"r11", "r10", "r9", "r8", "r7"}; !slices.Equal(got, want) {
		t.Fatalf("log: %v, want %v", got, want)
	}
	older, err := s.Rejections(list[1].Seq, 10)
	if err != nil || len(older) != 3 || older[0].Reason != "r9" {
		t.Errorf("before seq %d: %+v, %v", list[1].Seq, older, err)
	}
	s.Close()
	// Bounded in bytes: room for two entries of the size stored.
	size := func(r inbox.Rejection) int64 {
		j, _ := json.Marshal(r)
		return int64(len(j))
	}
	b.RejectedLogBytes = size(list[0]) + size(list[1]) + 64
	s = e.OpenBounded(t, b)
	s.LogRejection(inbox.Rejection{At: time.Now(), Kind: "rejected", Source: "koji", Reason: "r12", Status: 401,
		Headers: map[string][]string{"X-Long": {strings.Repeat("w", 1000)}}})
	s.Close()
	s = e.OpenBounded(t, b)
	list, err = s.Rejections(0, 100)
	if err != nil || len(list) != 2 || list[0].Reason != "r12" || list[1].Reason != "r11" {
		t.Errorf("byte-bounded log: %d entries, %v", len(list), err)
	}
}

// Enrichment records and reconciliation marks read back as stored.
func testEnrichmentAndMarks(t *testing.T, e Engine) {
	s := open(t, e)
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	r := inbox.Enrichment{EventID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Source: "gather", InterviewID: "iv-1",
		Status: inbox.EnrichProcessing, Interview: json.RawMessage(`{"a":"\u0000"}`), FirstAt: at, NextAt: at.Add(time.Minute),
		Attempts: 1, Refetches: 1, UpdatedAt: at}
	if err := s.PutEnrichment(r); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Attempts, r.FetchedAt = inbox.EnrichOK, 2, at.Add(2*time.Minute)
	if err := s.PutEnrichment(r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Enrichment(r.EventID)
	wantJSON, _ := json.Marshal(r)
	gotJSON, _ := json.Marshal(got)
	if err != nil || !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("enrichment: %s, %v\nwant %s", gotJSON, err, wantJSON)
	}
	if _, err := s.Enrichment("01BX5ZZKBKACTAV9WEVGEMMVRZ"); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("unknown enrichment: %v", err)
	}
	if err := s.PutEnrichment(inbox.Enrichment{}); err == nil {
		t.Error("enrichment without event id stored")
	}
	if m, err := s.ReconcileMark("gather"); err != nil || !m.IsZero() {
		t.Errorf("mark before any: %v, %v", m, err)
	}
	for _, m := range []time.Time{at, at.Add(time.Hour)} {
		if err := s.SetReconcileMark("gather", m.In(time.FixedZone("x", 3600))); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReconcileMark("gather"); err != nil || !got.Equal(m) {
			t.Errorf("mark: %v, %v; want %v", got, err, m)
		}
	}
}

// Nodes logging at once keep one bound per log: the trail's classes
// and the rejection log hold exactly their bound, and the drops the
// nodes count add up.
func testTwoNodesLogBounds(t *testing.T, e Engine) {
	if !e.Features.MultiNode {
		t.Skip("not run: Features.MultiNode is false (the engine's store belongs to one process)")
	}
	b := Bounds{TrailSearchSize: 5, RejectedLogSize: 7}
	nodes := []Store{e.OpenBounded(t, b), e.OpenBounded(t, b)}
	const each = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for n, s := range nodes {
		wg.Go(func() {
			for i := range each {
				errs <- s.LogAccess(inbox.Access{Action: "search", Query: fmt.Sprint(n, "-", i)})
				s.LogRejection(inbox.Rejection{Kind: "rejected", Source: "koji", Reason: fmt.Sprint(n, "-", i), Status: 401})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var dropped uint64
	for _, s := range nodes {
		dropped += s.TrailDropped()[inbox.TrailSearch]
		s.Close() // writes the queued rejections
	}
	s := open(t, e)
	trail, err := s.AccessTrail(0, 100)
	if err != nil || len(trail) != 5 || dropped != 2*each-5 {
		t.Errorf("trail: %d entries, %d dropped, %v; want 5 and %d", len(trail), dropped, err, 2*each-5)
	}
	if rs, err := s.Rejections(0, 100); err != nil || len(rs) != 7 {
		t.Errorf("rejection log: %d entries, %v; want 7", len(rs), err)
	}
}

// What one node accepts and logs, another reads, lists and verifies.
func testReadFromOtherNode(t *testing.T, e Engine) {
	if !e.Features.MultiNode {
		t.Skip("not run: Features.MultiNode is false (the engine's store belongs to one process)")
	}
	a, b := open(t, e), open(t, e)
	ids := archived(t, a, 4)
	if ev, err := b.Event(ids[3]); err != nil || ev.ID != ids[3] {
		t.Fatalf("event on other node: %v, %v", ev, err)
	}
	if body, err := b.Body(ids[0]); err != nil || len(body) == 0 {
		t.Fatalf("body on other node: %v", err)
	}
	p, err := b.List(inbox.Query{InterviewPrefix: "IV-ALPHA"})
	if want := newestFirst(ids, func(i int, _ string) bool { return i%3 != 2 }); err != nil || !slices.Equal(pageIDs(p), want) {
		t.Fatalf("list on other node: %v, %v; want %v", pageIDs(p), err, want)
	}
	mustAccept(t, b, delivery(99, "from-b"))
	for _, s := range []Store{a, b} {
		rep, err := s.Verify(context.Background())
		if err != nil || !rep.OK || rep.Checked != 5 {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
	}
	if err := a.LogAccess(inbox.Access{Action: "view", EventIDs: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	if trail, err := b.AccessTrail(0, 10); err != nil || len(trail) != 1 || trail[0].EventIDs[0] != ids[0] {
		t.Fatalf("trail on other node: %+v, %v", trail, err)
	}
}
