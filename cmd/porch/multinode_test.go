package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox/postgres/pgtest"
	"github.com/porchgw/porch/loadgen"
)

// Several porch processes on one PostgreSQL database, treated as an
// operator would run them behind a load balancer.

// nodeConfig is testConfig on the database at url, with data_dir (which
// then holds only the process's lock and caches) in a directory of its
// own. The destination times out quickly, so a dead node's claims pass
// to the others within seconds.
func nodeConfig(t *testing.T, url, sinkURL string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := testConfig(filepath.Join(dir, "data"), sinkURL) + postgresBlock(url)
	yaml = strings.ReplaceAll(yaml, "    match: [", "    timeout: 2s\n    match: [")
	return writeProcConfig(t, dir, yaml)
}

// startNodes starts n porch processes on the database at url.
func startNodes(t *testing.T, bin, url, sinkURL string, n int) []*porchProc {
	t.Helper()
	var nodes []*porchProc
	for range n {
		nodes = append(nodes, startPorch(t, bin, nodeConfig(t, url, sinkURL)))
	}
	return nodes
}

// The same delivery raced to two nodes at once is one event: exactly one
// answer says new, both name the same id, and the event reaches the
// destination once.
func TestMultiNodeSameDeliveryRaced(t *testing.T) {
	bin := buildPorch(t)
	url := pgtest.URL(t)
	sink := loadgen.NewSink()
	dest := httptest.NewServer(sink)
	defer dest.Close()
	nodes := startNodes(t, bin, url, dest.URL, 2)
	a, b := procTargets(nodes[0].listen), procTargets(nodes[1].listen)
	c := loadgen.NewClient(8)
	for i := range 100 {
		k := i % len(a)
		d, err := loadgen.NewDelivery(a[k], procEvents[a[k].Provider], loadgen.NewUUID(), a[k].Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var answers [2]answer
		var statuses [2]int
		var wg sync.WaitGroup
		for j, url := range []string{a[k].URL, b[k].URL} {
			wg.Go(func() {
				var err error
				statuses[j], answers[j], err = post(c, url, d)
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if statuses != [2]int{http.StatusOK, http.StatusOK} || answers[0].ID == "" || answers[0].ID != answers[1].ID ||
			answers[0].Duplicate == answers[1].Duplicate {
			t.Fatalf("delivery %d raced to both nodes: statuses %v, answers %+v; want one new, one duplicate, one id", i, statuses, answers)
		}
		sink.Expect(answers[0].ID, time.Now())
	}
	checkForwarded(t, sink)
	// What the store cannot tell on PostgreSQL (free disk) is left out of
	// the metrics, not counted as a failing scrape.
	m := string(adminGet(t, c, nodes[0].admin, "/metrics"))
	if !strings.Contains(m, "porch_store_scrape_errors_total 0") || strings.Contains(m, "porch_store_free_bytes") {
		t.Errorf("store metrics on PostgreSQL:\n%s", grepLines(m, "porch_store_"))
	}
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// kill -9 one node under load: every delivery either node acknowledged
// reaches the destination, through the survivor, and stays archived. The
// destination is slow to answer, so the killed node dies holding claims
// on attempts in flight, which the survivor retakes when their leases
// pass.
func TestMultiNodeKill9KeepsEveryAck(t *testing.T) {
	bin := buildPorch(t)
	url := pgtest.URL(t)
	sink := loadgen.NewSink()
	var inflight, lost atomic.Int64
	dest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		body, err := io.ReadAll(r.Body) // read first: net/http then notices a sender that goes away
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// An app that takes its time: long enough that a forward in flight
		// when its node is killed is still here when the connection drops,
		// even on a loaded machine where the kill takes tens of ms to land.
		time.Sleep(250 * time.Millisecond)
		if r.Context().Err() != nil {
			lost.Add(1)
			return // the sender died before it could be answered: not delivered
		}
		sink.ServeHTTP(w, r)
	}))
	defer dest.Close()
	nodes := startNodes(t, bin, url, dest.URL, 2)

	l := loadNodes(nodes, sink)
	waitUntil(t, 30*time.Second, "300 acknowledged deliveries", func() bool { return l.count() >= 300 })
	atKill := inflight.Load()
	nodes[0].kill9() // its senders now get refused connections
	t.Logf("%d forwards in flight when one node was killed", atKill)
	waitUntil(t, 30*time.Second, "100 more acknowledged deliveries", func() bool { return l.count() >= 400 })
	got := l.stop()
	t.Logf("%d deliveries acknowledged by two nodes, one killed with SIGKILL", len(got))
	// The survivor takes the dead node's claims once their leases pass.
	waitUntil(t, 90*time.Second, "every acknowledged event at the destination", func() bool { return len(sink.Missing()) == 0 })
	t.Logf("%d forwards cut off by the kill", lost.Load())
	if lost.Load() == 0 {
		t.Error("the kill cut off no forward in flight: the survivor's retaking of leases went untested")
	}
	checkArchived(t, nodes[1], got)
}

// The database restarted under load: meanwhile the nodes answer 503 to
// deliveries and archive reads, and /readyz says so; afterwards they recover by themselves, and nothing
// they acknowledged is lost.
func TestMultiNodeDatabaseRestart(t *testing.T) {
	bin := buildPorch(t)
	db := pgtest.NewCluster(t)
	sink := loadgen.NewSink()
	dest := httptest.NewServer(sink)
	defer dest.Close()
	nodes := startNodes(t, bin, db.URL(), dest.URL, 2)

	l := loadNodes(nodes, sink)
	waitUntil(t, 30*time.Second, "200 acknowledged deliveries", func() bool { return l.count() >= 200 })
	db.Stop()
	c := loadgen.NewClient(2)
	for _, n := range nodes {
		waitUntil(t, 30*time.Second, "/readyz to report the database lost", func() bool { return statusOf(c, "http://"+n.listen+"/readyz") == http.StatusServiceUnavailable })
		k := procTargets(n.listen)[0]
		d, _ := loadgen.NewDelivery(k, procEvents[k.Provider], loadgen.NewUUID(), k.Secret, time.Now())
		if status, a, err := post(c, k.URL, d); err != nil || status != http.StatusServiceUnavailable {
			t.Errorf("delivery with the database down: status %d %+v (%v), want 503", status, a, err)
		}
		// The archive says the store is away, as /readyz does, not that porch failed.
		req, _ := http.NewRequest(http.MethodGet, "http://"+n.admin+"/api/v1/events?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+testAuditToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("archive search with the database down: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("archive search with the database down: %s, want 503", resp.Status)
		}
	}
	down := l.count()
	db.Start()
	for _, n := range nodes {
		waitUntil(t, 60*time.Second, "/readyz to recover", func() bool { return statusOf(c, "http://"+n.listen+"/readyz") == http.StatusOK })
	}
	waitUntil(t, 60*time.Second, "100 acknowledged deliveries after the restart", func() bool { return l.count() >= down+100 })
	got := l.stop()
	t.Logf("%d deliveries acknowledged, %d of them after the database restarted", len(got), len(got)-down)
	waitUntil(t, 90*time.Second, "every acknowledged event at the destination", func() bool { return len(sink.Missing()) == 0 })
	checkArchived(t, nodes[0], got)
}

// nodeLoad is fresh deliveries sent to every node until stopped, each
// acknowledged one expected at the sink.
type nodeLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	got    []acked
}

// loadNodes starts four senders per node.
func loadNodes(nodes []*porchProc, sink *loadgen.Sink) *nodeLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &nodeLoad{cancel: cancel}
	for _, n := range nodes {
		l.wg.Go(func() {
			sendUntil(ctx, 4, procTargets(n.listen), func(a acked) {
				l.mu.Lock()
				l.got = append(l.got, a)
				l.mu.Unlock()
				sink.Expect(a.id, time.Now())
			})
		})
	}
	return l
}

// count is how many deliveries were acknowledged so far.
func (l *nodeLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// stop ends the load and returns every acknowledged delivery.
func (l *nodeLoad) stop() []acked {
	l.cancel()
	l.wg.Wait()
	return l.got
}

// statusOf GETs url and returns the status, 0 on a transport error.
func statusOf(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Each node needs a data_dir of its own even on PostgreSQL (it holds the
// node's ACME cache): a second porch on the same one refuses to start.
func TestMultiNodeSharedDataDirRefused(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	yaml := testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:1/") + postgresBlock(url)
	startMain(t, yaml)
	path := writeProcConfig(t, dir, yaml)
	code, _, stderr := runCmd("serve", "--config", path)
	if code != 1 || !strings.Contains(stderr, "another porch is using") {
		t.Fatalf("second porch on one data_dir: exit %d, stderr:\n%s", code, stderr)
	}
}
