package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/forward"
)

// lockedBuffer is a bytes.Buffer safe for a handler and a test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSinkShowsWhatAnAppReceives: the gateway forwards a real delivery to
// porch sink, which verifies the Standard Webhooks signature and prints
// the event; a forged request is refused.
func TestSinkShowsWhatAnAppReceives(t *testing.T) {
	out := &lockedBuffer{}
	s, err := newSink("whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ==", http.StatusNoContent, true, out)
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(s)
	defer app.Close()
	m, _ := startMain(t, testConfigPaths(t.TempDir(), app.URL))
	body, h := signed(t, "koji", "interview.completed", "iv-sink", testKojiSecret)
	a := deliver(t, m.Gateway.Addr(), "koji", body, h)
	if a.Status != http.StatusOK {
		t.Fatalf("deliver: %+v", a)
	}
	waitUntil(t, 30*time.Second, "the event at app and koji-only", func() bool { return strings.Count(out.String(), a.ID) >= 2 })
	got := out.String()
	for _, want := range []string{"koji:interview.completed interview=iv-sink attempt=1", "signature ok -> 204", `"payload": {`} {
		if !strings.Contains(got, want) {
			t.Errorf("sink output lacks %q:\n%s", want, got)
		}
	}

	// A forged request: signed with another key.
	fb := []byte(`{"id":"forged"}`)
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/app", bytes.NewReader(fb))
	req.Header.Set("webhook-id", "forged")
	now := time.Now()
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", forward.Sign([]byte("another key"), "forged", now, fb))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(out.String(), "forged") || !strings.Contains(out.String(), "SIGNATURE REJECTED") {
		t.Errorf("forged request: %d\n%s", resp.StatusCode, out.String())
	}
}

func TestSinkFlagErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(cfg, []byte(testConfig(dir, "http://127.0.0.1/nowhere")), 0o600); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "bare.yaml")
	if err := os.WriteFile(bare, []byte("data_dir: "+filepath.Join(dir, "data")+"\nsources:\n  - {name: koji, provider: koji, secrets: [s3cret-for-tests]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--config", cfg, "--status", "42"}, "not an HTTP status"},
		{[]string{"--config", bare}, "has no destinations"},
		{[]string{"--config", cfg, "--destination", "nope"}, `no destination named "nope"`},
		{[]string{"--config", cfg}, "pass --listen"},
		{[]string{}, "--config is required"},
	} {
		code, _, errs := cli(runSink, c.args...)
		if code != 2 || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: %d %q, want 2 and %q", c.args, code, errs, c.msg)
		}
	}
}
