package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/porchgw/porch/loadgen"
)

// Fault tests of forwarding: the real binary against a sink that fails.

// forwardConfig is a config with one destination at sinkURL that retries
// fast, so recovery shows within seconds.
func forwardConfig(dataDir, sinkURL string) string {
	return fmt.Sprintf(`
listen: "127.0.0.1:0"
admin_listen: "127.0.0.1:0"
data_dir: %q
log: {level: info, format: json}
sources:
  - name: koji
    provider: koji
    secrets: [%q]
  - name: gather
    provider: gather
    secrets: [%q]
destinations:
  - name: app
    url: %q
    match: ["*"]
    secret: "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="
    timeout: 2s
    max_attempts: 50
    concurrency: 4
    backoff: {initial: 100ms, max: 500ms}
    circuit: {failures: 5, cooldown: 500ms}
auth:
  admin_tokens: [%q]
  auditor_tokens: [%q]
`, dataDir, testKojiSecret, testGatherSecret, sinkURL, testAdminToken, testAuditToken)
}

// freeAddr returns a loopback address nothing listens on, for a sink
// the test starts later (or never).
func freeAddr(t *testing.T) string {
	t.Helper()
	// A port the kernel hands out (port 0) is in its ephemeral range, from
	// which any process's next outgoing connection may take it as its
	// local port before the test binds it again ("address already in
	// use"). Linux's default range starts at 32768, so take one below it.
	for range 100 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000)))
		if err == nil {
			defer ln.Close()
			return ln.Addr().String()
		}
	}
	t.Fatal("no free port in 20000-31999")
	return ""
}

// sendFresh sends n fresh deliveries and expects each 200; it tells the
// sink to expect their ids.
func sendFresh(t *testing.T, p *porchProc, sink *loadgen.Sink, n int) {
	t.Helper()
	c := loadgen.NewClient(4)
	targets := procTargets(p.listen)
	for i := range n {
		_, status, a, err := postFresh(c, targets[i%2])
		if err != nil || status != http.StatusOK || a.Duplicate {
			t.Fatalf("delivery %d: %d %+v (%v)", i, status, a, err)
		}
		sink.Expect(a.ID, time.Now())
	}
}

// TestFaultSinkDownThenBack: the destination is unreachable while
// deliveries arrive; once it is back, every event reaches it.
func TestFaultSinkDownThenBack(t *testing.T) {
	bin := buildPorch(t)
	addr := freeAddr(t) // closed for now: connection refused
	dir := t.TempDir()
	p := startPorch(t, bin, writeProcConfig(t, dir, forwardConfig(filepath.Join(dir, "data"), "http://"+addr+"/hook")))
	sink := loadgen.NewSink()
	sendFresh(t, p, sink, 100)
	// The destination stays down until attempts have failed and backed
	// off: nine failures mean the circuit opened (five, and up to three
	// more already in flight at concurrency 4) and a probe after its
	// cooldown failed as well.
	waitUntil(t, 30*time.Second, "nine failed attempts", func() bool {
		n, _ := find(scrapeSamples(t, p.admin), "porch_forward_attempts_total", map[string]string{"destination": "app", "outcome": "retry"})
		return n >= 9
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("sink port %s taken meanwhile: %v", addr, err)
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	waitUntil(t, 30*time.Second, "every event at the sink after it came back", func() bool { return len(sink.Missing()) == 0 })
}

// TestFaultSinkFlaky: the destination answers 503 to every third request;
// every event still reaches it with a 2xx.
func TestFaultSinkFlaky(t *testing.T) {
	bin := buildPorch(t)
	sink := loadgen.NewSink()
	sink.Status = func(n int64) int {
		if n%3 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	dir := t.TempDir()
	p := startPorch(t, bin, writeProcConfig(t, dir, forwardConfig(filepath.Join(dir, "data"), "http://"+ln.Addr().String()+"/hook")))
	sendFresh(t, p, sink, 300)
	waitUntil(t, 30*time.Second, "every event answered 2xx by the flaky sink", func() bool { return len(sink.Missing()) == 0 })
	r := sink.Report(time.Now())
	if r.Requests < int64(r.Expected)*4/3 {
		t.Errorf("sink saw %d requests for %d events: the 503s were not retried?", r.Requests, r.Expected)
	}
}
