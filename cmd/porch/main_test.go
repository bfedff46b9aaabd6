package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox/inboxtest"
	"github.com/porchgw/porch/sender"
)

const (
	testKojiSecret   = "koji-test-secret"
	testGatherSecret = "gather-test-secret"
	testAdminToken   = "admin-token-for-tests"
	testAuditToken   = "auditor-token-for-tests"
)

// testConfig is a complete config on free loopback ports over dataDir.
func testConfig(dataDir, sinkURL string) string {
	return fmt.Sprintf(`
listen: "127.0.0.1:0"
admin_listen: "127.0.0.1:0"
data_dir: %q
log: {level: debug, format: json}
sources:
  - name: koji
    provider: koji
    secrets: ["old-koji-secret", %q]
  - name: gather
    provider: gather
    secrets: [%q]
destinations:
  - name: app
    url: %q
    match: ["*"]
    secret: "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="
  - name: koji-only
    url: %q
    match: ["koji:interview.*"]
    secret: "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="
auth:
  admin_tokens: [%q]
  auditor_tokens: [%q]
  rate_limit: {rps: 0}  # the tests read the archive back as fast as they can
`, dataDir, testKojiSecret, testGatherSecret, sinkURL, sinkURL, testAdminToken, testAuditToken)
}

// testConfigPaths is testConfig with each destination at its own path
// under base: base+"/app" and base+"/koji-only".
func testConfigPaths(dataDir, base string) string {
	return strings.Replace(testConfig(dataDir, base+"/app"), `url: "`+base+`/app"
    match: ["koji:`, `url: "`+base+`/koji-only"
    match: ["koji:`, 1)
}

// startMain runs the real gateway from yaml until the test ends or stop is
// called; stop waits for a clean shutdown.
func startMain(t *testing.T, yaml string) (m *Main, stop func()) {
	t.Helper()
	cfg, err := ParseConfig(strings.NewReader(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log, _ := newLogger(io.Discard, "debug", "json")
	m = &Main{Config: cfg, Log: log}
	if err := m.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return m, stop
}

type answer struct {
	Status    int
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
	Error     string `json:"error"`
	Control   bool   `json:"control"`
}

// deliver posts body with headers h to the gateway and decodes the answer.
// deliverEach delivers a signed Koji interview.completed for each
// interview and returns the event ids.
func deliverEach(t *testing.T, addr string, interviews ...string) []string {
	t.Helper()
	var ids []string
	for _, iv := range interviews {
		body, h := signed(t, "koji", "interview.completed", iv, testKojiSecret)
		a := deliver(t, addr, "koji", body, h)
		if a.Status != http.StatusOK {
			t.Fatalf("deliver: %+v", a)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func deliver(t *testing.T, addr, source string, body []byte, h http.Header) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/in/"+source, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("decode answer (status %d): %v", resp.StatusCode, err)
	}
	a.Status = resp.StatusCode
	return a
}

// signed returns a sample delivery of provider for event, signed with
// secret as the provider would.
func signed(t *testing.T, provider, event, interview, secret string) ([]byte, http.Header) {
	t.Helper()
	def, ok := gateway.Lookup(provider)
	if !ok {
		t.Fatalf("no provider %s", provider)
	}
	now := time.Now()
	body := sender.Sample(def.Name, event, interview, now)
	return body, sender.Sign(def.Name, body, secret, now)
}

func TestServeAcceptsDedupsAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	yaml := testConfig(dir, "http://127.0.0.1:1/unused")
	m, stop := startMain(t, yaml)
	addr := m.Gateway.Addr()

	kbody, kh := signed(t, "koji", "interview.analysis_ready", "iv-1", testKojiSecret)
	first := deliver(t, addr, "koji", kbody, kh)
	if first.Status != 200 || first.ID == "" || first.Duplicate {
		t.Fatalf("first koji delivery: %+v", first)
	}
	again := deliver(t, addr, "koji", kbody, kh)
	if again.Status != 200 || !again.Duplicate || again.ID != first.ID {
		t.Fatalf("repeat koji delivery: %+v, want duplicate of %s", again, first.ID)
	}
	gbody, gh := signed(t, "gather", "candidate_interview.completed", "ci-1", testGatherSecret)
	g := deliver(t, addr, "gather", gbody, gh)
	if g.Status != 200 || g.Duplicate {
		t.Fatalf("gather delivery: %+v", g)
	}
	ev, err := m.DB.Event(first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Verification.SecretIndex != 1 || ev.Verification.Mode != "raw" || ev.InterviewID != "iv-1" {
		t.Errorf("evidence = %+v, interview %q", ev.Verification, ev.InterviewID)
	}
	if want := []string{"app", "koji-only"}; fmt.Sprint(ev.Destinations) != fmt.Sprint(want) {
		t.Errorf("destinations = %v, want %v", ev.Destinations, want)
	}
	stop()

	m2, _ := startMain(t, yaml)
	after := deliver(t, m2.Gateway.Addr(), "koji", kbody, kh)
	if !after.Duplicate || after.ID != first.ID {
		t.Fatalf("after restart: %+v, want duplicate of %s", after, first.ID)
	}
	body, err := m2.DB.Body(first.ID)
	if err != nil || !bytes.Equal(body, kbody) {
		t.Errorf("archived body differs after restart (%v)", err)
	}
	if _, err := m2.DB.Event(g.ID); err != nil {
		t.Errorf("gather event lost in restart: %v", err)
	}
	if n := inboxtest.Depth(t, m2.DB); n != 3 { // koji → app + koji-only, gather → app
		t.Errorf("outbox entries after restart = %d, want 3", n)
	}
}

func TestServeRefusals(t *testing.T) {
	m, _ := startMain(t, testConfig(t.TempDir(), "http://127.0.0.1:1/unused"))
	addr := m.Gateway.Addr()
	kbody, kh := signed(t, "koji", "interview.completed", "iv-2", "wrong-secret")
	tests := []struct {
		name   string
		source string
		body   []byte
		h      http.Header
		status int
	}{
		{"wrong secret", "koji", kbody, kh, 401},
		{"no signature on a data event", "koji", kbody, nil, 401},
		{"unknown source", "stripe", kbody, kh, 404},
		{"too large", "koji", bytes.Repeat([]byte("x"), 2<<20), nil, 413},
		{"koji endpoint check: empty body, unsigned", "koji", nil, nil, 200},
		{"gather without signature", "gather", []byte(`{"event":"x"}`), nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := deliver(t, addr, tt.source, tt.body, tt.h)
			if a.Status != tt.status {
				t.Errorf("status = %d (%+v), want %d", a.Status, a, tt.status)
			}
			if a.Status != 200 && a.Error == "" {
				t.Errorf("error body has no error message")
			}
		})
	}
	resp, err := http.Get("http://" + addr + "/in/koji")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /in/koji = %d %s, want 405 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if n := inboxtest.Depth(t, m.DB); n != 0 {
		t.Errorf("refused deliveries queued %d forwards", n)
	}
	waitUntil(t, 30*time.Second, "four refusals in the rejection log (written in the background)", func() bool {
		rej, _ := m.DB.Rejections(0, 100)
		return len(rej) >= 4
	})
}

func TestServeConcurrentIdenticalDeliveries(t *testing.T) {
	m, _ := startMain(t, testConfig(t.TempDir(), "http://127.0.0.1:1/unused"))
	body, h := signed(t, "koji", "interview.completed", "iv-same", testKojiSecret)
	const n = 64
	answers := make(chan answer, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- deliver(t, m.Gateway.Addr(), "koji", body, h)
		}()
	}
	wg.Wait()
	close(answers)
	ids := map[string]int{}
	fresh := 0
	for a := range answers {
		if a.Status != 200 {
			t.Errorf("status %d: %+v", a.Status, a)
		}
		ids[a.ID]++
		if !a.Duplicate {
			fresh++
		}
	}
	if len(ids) != 1 || fresh != 1 {
		t.Errorf("ids %v, fresh %d: want one id, one fresh", ids, fresh)
	}
	if n := inboxtest.Depth(t, m.DB); n != 2 {
		t.Errorf("outbox entries = %d, want one per destination (2)", n)
	}
}
