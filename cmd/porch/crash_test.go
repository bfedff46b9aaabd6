package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/loadgen"
)

// Process-level tests: they build the real binary, run it on a temp config
// and data directory, and treat it as an operator would (signals, kill -9).

// buildPorch compiles the porch binary into a temp dir.
func buildPorch(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "porch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// porchProc is a running porch serve.
type porchProc struct {
	cmd    *exec.Cmd
	log    string // its stderr
	listen string
	admin  string
	exited chan struct{}
}

// startPorch runs `bin serve --config cfg` and waits for its "porch
// started" log line, which names the bound addresses.
func startPorch(t *testing.T, bin, cfg string, env ...string) *porchProc {
	t.Helper()
	p := startUnwaited(t, bin, cfg, env...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p.readStarted() {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("porch exited before starting:\n%s", p.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("porch did not start:\n%s", p.tail())
	return nil
}

// startUnwaited runs `bin serve --config cfg`, with env added to the
// environment, without waiting for it to start; it is killed when the
// test ends.
func startUnwaited(t *testing.T, bin, cfg string, env ...string) *porchProc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "porch-*.log")
	if err != nil {
		t.Fatal(err)
	}
	p := &porchProc{cmd: exec.Command(bin, "serve", "--config", cfg), log: logf.Name(), exited: make(chan struct{})}
	p.cmd.Stderr, p.cmd.Stdout = logf, logf
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.exited) }()
	t.Cleanup(p.kill9)
	return p
}

// readStarted looks for the start line and reads the addresses from it.
func (p *porchProc) readStarted() bool {
	f, err := os.Open(p.log)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			Listen string `json:"listen"`
			Admin  string `json:"admin_listen"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "porch started" {
			p.listen, p.admin = line.Listen, line.Admin
			return true
		}
	}
	return false
}

// tail is the end of the process's log, for failure messages.
func (p *porchProc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (p *porchProc) kill9() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// writeProcConfig writes yaml to porch.yaml in dir.
func writeProcConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	path := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// procTargets are the test config's two sources, at the process's address.
func procTargets(addr string) []*loadgen.Target {
	return []*loadgen.Target{
		{Source: "koji", Provider: "koji", Secret: testKojiSecret, URL: "http://" + addr + "/in/koji"},
		{Source: "gather", Provider: "gather", Secret: testGatherSecret, URL: "http://" + addr + "/in/gather"},
	}
}

// procEvents are events keyed by interview id, one per provider.
var procEvents = map[string]string{"koji": "interview.completed", "gather": "candidate_interview.completed"}

// acked is a delivery that was answered 200, and the id it got.
type acked struct {
	d  loadgen.Delivery
	id string
}

// post sends d and decodes the answer; err is a transport error.
func post(c *http.Client, url string, d loadgen.Delivery) (status int, a answer, err error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, a, err
	}
	req.Header = d.Header.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return 0, a, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, a, err
	}
	_ = json.Unmarshal(raw, &a)
	return resp.StatusCode, a, nil
}

// sendUntil runs n senders of fresh deliveries to targets until ctx ends,
// calling onAck (concurrently) for each one answered 200 as a new event.
// Transport errors (the process is down) are retried with a new delivery.
func sendUntil(ctx context.Context, n int, targets []*loadgen.Target, onAck func(acked)) {
	c := loadgen.NewClient(n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for j := 0; ctx.Err() == nil; j++ {
				tg := targets[(i+j)%len(targets)]
				d, _ := loadgen.NewDelivery(tg, procEvents[tg.Provider], loadgen.NewUUID(), tg.Secret, time.Now())
				status, a, err := post(c, tg.URL, d)
				if err != nil {
					// The process is gone or restarting. Like a provider,
					// the sender pauses before it retries, rather than
					// spin on refused connections and starve the restart
					// of CPU; this paces load and waits for nothing.
					time.Sleep(5 * time.Millisecond)
					continue
				}
				if status == http.StatusOK && !a.Duplicate {
					onAck(acked{d: d, id: a.ID})
				}
			}
		})
	}
	wg.Wait()
}

// TestCrashKill9KeepsEveryAck kills the gateway with SIGKILL in the middle
// of a load and proves, after a restart, that every delivery answered 200
// is in the archive: resending it is a duplicate of the same id, and its
// raw bytes are served by the admin API. Each
// also reaches the destination at least once.
func TestCrashKill9KeepsEveryAck(t *testing.T) {
	bin := buildPorch(t)
	sink := loadgen.NewSink()
	dest := httptest.NewServer(sink)
	defer dest.Close()
	dir := t.TempDir()
	cfg := writeProcConfig(t, dir, testConfig(filepath.Join(dir, "data"), dest.URL))
	p := startPorch(t, bin, cfg)

	var mu sync.Mutex
	var got []acked
	ctx, cancel := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		sendUntil(ctx, 8, procTargets(p.listen), func(a acked) {
			mu.Lock()
			got = append(got, a)
			mu.Unlock()
			sink.Expect(a.id, time.Now())
		})
	}()
	waitUntil(t, 20*time.Second, "300 acknowledged deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 300
	})
	p.kill9() // mid-run: senders are still sending
	cancel()
	<-loadDone
	t.Logf("%d deliveries acknowledged before kill -9", len(got))

	p2 := startPorch(t, bin, cfg)
	checkArchived(t, p2, got)
	checkForwarded(t, sink)
}

// checkArchived proves each acknowledged delivery survived.
func checkArchived(t *testing.T, p *porchProc, got []acked) {
	t.Helper()
	c := loadgen.NewClient(8)
	targets := map[string]string{}
	for _, tg := range procTargets(p.listen) {
		targets[tg.Source] = tg.URL
	}
	for _, a := range got {
		status, ans, err := post(c, targets[a.d.Target.Source], a.d)
		if err != nil || status != http.StatusOK || !ans.Duplicate || ans.ID != a.id {
			t.Fatalf("resending acknowledged %s %s: status %d %+v (%v), want duplicate of %s",
				a.d.Target.Source, a.d.InterviewID, status, ans, err, a.id)
		}
		raw := adminGet(t, c, p.admin, "/api/v1/events/"+a.id+"/raw")
		if !bytes.Equal(raw, a.d.Body) {
			t.Fatalf("archived raw body of %s differs from what was acknowledged", a.id)
		}
	}
}

// checkForwarded proves every acknowledged event reached the sink at least
// once.
func checkForwarded(t *testing.T, sink *loadgen.Sink) {
	t.Helper()
	waitUntil(t, 20*time.Second, "every acknowledged event at the sink", func() bool { return len(sink.Missing()) == 0 })
}

// adminGet GETs path on the admin listener as an auditor.
func adminGet(t *testing.T, c *http.Client, admin, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+admin+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAuditToken)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return b
}

// waitUntil polls cond until it holds or limit passes, naming what it
// waited for: the package's one wait for work done in the background (by
// the server under test, a porch process or a sink).
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
