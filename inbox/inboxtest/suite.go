package inboxtest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// Store is what the suite drives: a whole store engine (inbox.Store).
type Store = inbox.Store

// Bounds are the log bounds a store is opened with (the engines'
// options of the same names).
type Bounds struct {
	RejectedLogSize  int
	RejectedLogBytes int64
	TrailLogSize     int
	TrailSearchSize  int
}

// Features says where an engine legitimately differs from others.
type Features struct {
	// MultiNode is true when several stores (nodes) may be open on the
	// same data at once, as on a shared database. An embedded store owned
	// by one process sets it false.
	MultiNode bool
}

// Engine is one test's handle on an engine, built by the constructor
// passed to Run.
type Engine struct {
	// Open opens a store on the test's data. Called again after Close it
	// reopens the same data; with Features.MultiNode it may be called
	// while another store is open, as a second node. The suite closes
	// every store it opens.
	Open func(t *testing.T) Store
	// OpenBounded is Open with the given log bounds.
	OpenBounded func(t *testing.T, b Bounds) Store
	// Tamper alters the stored raw body of event id behind the engine's
	// back, as someone with access to its storage could.
	Tamper func(s Store, id string) error
	// Export lists the archived events with their bodies, in chain order.
	Export func(s Store) ([]inbox.Record, error)
	// Pending lists the outbox.
	Pending func(s Store) ([]inbox.Delivery, error)
	// Prune runs the engine's retention with cutoff; nil leaves the
	// cases' retention checks out.
	Prune func(s Store, cutoff time.Time) (inbox.PruneReport, error)
	// Crash cuts s off as a crash of its node would, without Close, at
	// an instant while Crash runs and other goroutines are calling s,
	// and returns a store opened afresh on the data as the crash left
	// it (later Opens open that data too). From the crash on, s
	// acknowledges nothing the returned store does not hold; calls on s
	// still waiting end when their context does. The suite closes both
	// stores.
	Crash func(t *testing.T, s Store) Store
	// Features are the engine's differences.
	Features Features
}

// Run runs the suite. newEngine is called once per case, and must give
// each case data of its own, so cases may run in parallel.
func Run(t *testing.T, newEngine func(t *testing.T) Engine) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newEngine(t))
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, e Engine)
}{
	{"NewThenDuplicate", testNewThenDuplicate},
	{"DuplicateBySecondKey", testDuplicateBySecondKey},
	{"DuplicateKeepsNewBytes", testDuplicateKeepsNewBytes},
	{"SameDeliveryAtOnce", testSameDeliveryAtOnce},
	{"BatchIsolation", testBatchIsolation},
	{"QuarantineGetsNoOutbox", testQuarantineNoOutbox},
	{"ChainContinuity", testChainContinuity},
	{"ConcurrentWriters", testConcurrentWriters},
	{"ReopenKeepsDedup", testReopenKeepsDedup},
	{"CrashMidAccept", testCrashMidAccept},
	{"TwoNodesRace", testTwoNodesRace},
	{"TwoNodesConcurrentWriters", testTwoNodesConcurrentWriters},
	{"ReadsByID", testReadsByID},
	{"ListFiltersAndPaging", testListFiltersAndPaging},
	{"ExportRanges", testExportRanges},
	{"Retention", testRetention},
	{"VerifyFindsTamperedBody", testVerifyFindsTamperedBody},
	{"VerifyAcceptsSendersBadBytes", testVerifyAcceptsSendersBadBytes},
	{"LongTypeAndInterviewID", testLongTypeAndInterviewID},
	{"OddShortTypesForwarded", testOddShortTypesForwarded},
	{"OddReadArguments", testOddReadArguments},
	{"TrailClassesBounded", testTrailClassesBounded},
	{"RejectionLogBounded", testRejectionLogBounded},
	{"EnrichmentAndMarks", testEnrichmentAndMarks},
	{"ReadFromOtherNode", testReadFromOtherNode},
	{"TwoNodesLogBounds", testTwoNodesLogBounds},
	{"ClaimHolds", testClaimHolds},
	{"ClaimWant", testClaimWant},
	{"ClaimInterviewOrder", testClaimInterviewOrder},
	{"ClaimDeadLetter", testClaimDeadLetter},
	{"ClaimLeaseLapses", testClaimLeaseLapses},
	{"ClaimRetakenFenced", testClaimRetakenFenced},
	{"ConcurrentClaimers", testConcurrentClaimers},
	{"Abandon", testAbandon},
}

// open opens a store that the test closes at its end.
func open(t *testing.T, e Engine) Store {
	t.Helper()
	s := e.Open(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func mustAccept(t *testing.T, s Store, ev *inbox.Event) inbox.Result {
	t.Helper()
	r, err := s.Accept(context.Background(), ev)
	if err != nil {
		t.Fatalf("accept %v: %v", ev.DedupKeys, err)
	}
	return r
}

func mustExport(t *testing.T, e Engine, s Store) []inbox.Record {
	t.Helper()
	recs, err := e.Export(s)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return recs
}

// verifyChain checks the archive's records with inbox.VerifyExport, the
// offline check auditors run, and returns how many links held.
func verifyChain(t *testing.T, recs []inbox.Record) int {
	t.Helper()
	var buf bytes.Buffer
	x := inbox.NewExportWriter(&buf)
	for i, r := range recs {
		if err := x.Write(r); err != nil {
			t.Fatal(err)
		}
		if i > 0 && (r.Seq != recs[i-1].Seq+1 || r.ID <= recs[i-1].ID || r.PrevHash != recs[i-1].Hash) {
			t.Fatalf("record %d (seq %d, id %s) does not follow seq %d, id %s", i, r.Seq, r.ID, recs[i-1].Seq, recs[i-1].ID)
		}
	}
	if err := x.End(); err != nil {
		t.Fatal(err)
	}
	rep, err := inbox.VerifyExport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Checked != len(recs) {
		t.Fatalf("chain: ok %v, checked %d of %d, broken %v", rep.OK, rep.Checked, len(recs), rep.Broken)
	}
	return rep.Checked
}
