package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// recordingSink is a destination answering status to every request and
// remembering the webhook-id of each, by destination path.
type recordingSink struct {
	status atomic.Int32
	mu     sync.Mutex
	got    map[string][]string // path → webhook-ids, in arrival order
}

func newRecordingSink(t *testing.T, status int) (*recordingSink, string) {
	s := &recordingSink{got: map[string][]string{}}
	s.status.Store(int32(status))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.got[r.URL.Path] = append(s.got[r.URL.Path], r.Header.Get("webhook-id"))
		s.mu.Unlock()
		w.WriteHeader(int(s.status.Load()))
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *recordingSink) ids(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got[path]...)
}

func cli(run func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestReplayAndDeadLettersCLI(t *testing.T) {
	sink, sinkURL := newRecordingSink(t, http.StatusGone) // 410: dead-lettered at once
	m, _ := startMain(t, testConfigPaths(t.TempDir(), sinkURL))
	admin := []string{"--admin-url", "http://" + m.Admin.Addr()}
	t.Setenv("PORCH_ADMIN_TOKEN", testAdminToken)
	t.Setenv("PORCH_AUDITOR_TOKEN", "")

	ids := deliverEach(t, m.Gateway.Addr(), "iv-a", "iv-b")
	// Two events × two destinations, all refused with 410.
	waitUntil(t, 30*time.Second, "four dead letters", func() bool {
		dl, err := m.DB.DeadLetters(inbox.DeadLetterFilter{})
		return err == nil && len(dl) == 4
	})
	code, out, errs := cli(runDeadLetters, append([]string{"ls", "--destination", "app"}, admin...)...)
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, ids[0]) || !strings.Contains(out, ids[1]) || !strings.Contains(errs, "2 dead letter(s)") {
		t.Fatalf("ls --destination app: %d\n%s%s", code, out, errs)
	}

	sink.status.Store(http.StatusOK) // the app is fixed
	code, out, errs = cli(runReplay, append([]string{ids[0], "--reason", "app fixed", "--destination", "app"}, admin...)...)
	if code != 0 || !strings.Contains(out, ids[0]+": queued for app") {
		t.Fatalf("replay: %d %s%s", code, out, errs)
	}
	waitUntil(t, 30*time.Second, "the replay at the app", func() bool { return len(sink.ids("/app")) == 3 })
	if got := sink.ids("/app"); got[2] != ids[0] {
		t.Errorf("replayed webhook-id %q, want the event id %s", got[2], ids[0])
	}

	code, out, errs = cli(runDeadLetters, append([]string{"replay", "--reason", "bulk after fix", "--destination", "koji-only"}, admin...)...)
	if code != 0 || !strings.Contains(out, "2 delivery(ies) queued") {
		t.Fatalf("deadletters replay: %d %s%s", code, out, errs)
	}
	waitUntil(t, 30*time.Second, "the bulk replay at koji-only", func() bool { return len(sink.ids("/koji-only")) == 4 })
	code, out, _ = cli(runDeadLetters, append([]string{"ls"}, admin...)...)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, ids[1]) {
		t.Errorf("left dead: %s", out)
	}
	// The history says who replayed and why.
	at, err := m.DB.Attempts(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, a := range at {
		if a.By != "" {
			reasons = append(reasons, a.Reason)
		}
	}
	if strings.Join(reasons, "|") != "app fixed|bulk after fix" {
		t.Errorf("replay history reasons %q", reasons)
	}
}

func TestReplayCLIErrors(t *testing.T) {
	m, _ := startMain(t, testConfig(t.TempDir(), "http://127.0.0.1:9/unused"))
	url := "http://" + m.Admin.Addr()
	t.Setenv("PORCH_ADMIN_TOKEN", "")
	t.Setenv("PORCH_AUDITOR_TOKEN", testAuditToken)
	for _, c := range []struct {
		run  func(context.Context, []string, io.Writer, io.Writer) int
		args []string
		code int
		msg  string
	}{
		{runReplay, []string{}, 2, "event id is required"},
		{runReplay, []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "--admin-url", url, "--token", testAdminToken}, 2, "--reason is required"},
		{runReplay, []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "--reason", "x", "--admin-url", url}, 2, "PORCH_ADMIN_TOKEN"},
		{runReplay, []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "--reason", "x", "--admin-url", url, "--token", testAuditToken}, 1, "403"},
		{runReplay, []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "--reason", "x", "--admin-url", url, "--token", testAdminToken}, 1, "404"},
		{runDeadLetters, []string{}, 2, "Usage: porch deadletters"},
		{runDeadLetters, []string{"nope"}, 2, `unknown subcommand "nope"`},
		{runDeadLetters, []string{"ls", "--admin-url", url, "--since", "later"}, 2, "--since: "},
		{runDeadLetters, []string{"replay", "--admin-url", url, "--token", testAdminToken}, 2, "--reason is required"},
		{runDeadLetters, []string{"replay", "--admin-url", url, "--reason", "x"}, 2, "no token"},
	} {
		code, _, errs := cli(c.run, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: %d %q; want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
	if code, _, _ := cli(runDeadLetters, "ls", "--admin-url", url); code != 0 {
		t.Errorf("ls with the auditor token from the environment: %d", code)
	}
}
