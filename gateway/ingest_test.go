package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/sender"
	"github.com/sirupsen/logrus"
)

// storeFunc is a Store whose Accept is a function, for failure injection.
type storeFunc func(context.Context, *inbox.Event) (inbox.Result, error)

func (f storeFunc) Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error) {
	return f(ctx, ev)
}

func newServer(t *testing.T, store gateway.Store, ack time.Duration) *httptest.Server {
	t.Helper()
	s, err := gateway.New(gateway.Config{
		AckTimeout: ack,
		Sources: []gateway.Source{
			{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"ks"}}},
			{Name: "gather", Provider: "gather", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"gs"}, CanonicalFallback: true}},
		},
		Route: func(source, event string) []string { return []string{"app"} },
	}, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url string, body []byte, h http.Header) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Answers carry their length: the access log flushes them before it
	// logs, which must not turn them chunked.
	if resp.ContentLength <= 0 || len(resp.TransferEncoding) > 0 {
		t.Errorf("answer %d: Content-Length %d, Transfer-Encoding %v", resp.StatusCode, resp.ContentLength, resp.TransferEncoding)
	}
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

func openInbox(t *testing.T) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestGatherPrettyBodyVerifiesOnCanonicalPath(t *testing.T) {
	db := openInbox(t)
	srv := newServer(t, db, time.Second)
	def, _ := gateway.Lookup("gather")
	now := time.Now()
	compact := sender.Sample(def.Name, "candidate_interview.completed", "ci-9", now)
	h := sender.Sign(def.Name, compact, "gs", now)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, compact, "", "  "); err != nil {
		t.Fatal(err)
	}
	resp, m := post(t, srv.URL+"/in/gather", pretty.Bytes(), h)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %v", resp.StatusCode, m)
	}
	ev, err := db.Event(m["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Verification.Mode != gateway.ModeCanonical || ev.InterviewID != "ci-9" {
		t.Errorf("evidence %+v interview %q", ev.Verification, ev.InterviewID)
	}
	body, _ := db.Body(ev.ID)
	if !bytes.Equal(body, pretty.Bytes()) {
		t.Error("archived body is not the bytes received")
	}
}

func TestAuthenticUnparseableBodyIsQuarantined(t *testing.T) {
	db := openInbox(t)
	srv := newServer(t, db, time.Second)
	def, _ := gateway.Lookup("koji")
	body := []byte("not json at all")
	resp, m := post(t, srv.URL+"/in/koji", body, sender.Sign(def.Name, body, "ks", time.Now()))
	if resp.StatusCode != 200 || m["duplicate"] != false {
		t.Fatalf("status %d %v", resp.StatusCode, m)
	}
	ev, _ := db.Event(m["id"].(string))
	if ev.Status != inbox.StatusQuarantined || len(ev.Destinations) != 0 {
		t.Errorf("status %s destinations %v; want quarantined, none", ev.Status, ev.Destinations)
	}
	if st, _ := db.OutboxStats(); len(st) != 0 {
		t.Errorf("quarantined event was queued")
	}
}

func TestStoreFailuresAnswer503(t *testing.T) {
	def, _ := gateway.Lookup("koji")
	body := sender.Sample(def.Name, "interview.completed", "iv", time.Now())
	h := sender.Sign(def.Name, body, "ks", time.Now())
	tests := []struct {
		name  string
		store storeFunc
	}{
		{"store refuses", func(context.Context, *inbox.Event) (inbox.Result, error) {
			return inbox.Result{}, inbox.ErrNotDurable
		}},
		{"store closed", func(context.Context, *inbox.Event) (inbox.Result, error) {
			return inbox.Result{}, inbox.ErrClosed
		}},
		{"not durable within ack_timeout", func(ctx context.Context, _ *inbox.Event) (inbox.Result, error) {
			<-ctx.Done()
			return inbox.Result{}, inbox.ErrNotDurable
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.store, 50*time.Millisecond)
			resp, m := post(t, srv.URL+"/in/koji", body, h)
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
				t.Errorf("status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if m["error"] == nil || m["request_id"] == nil {
				t.Errorf("error body %v", m)
			}
		})
	}
}

func TestErrorsNeverEchoSecrets(t *testing.T) {
	srv := newServer(t, openInbox(t), time.Second)
	def, _ := gateway.Lookup("koji")
	body := sender.Sample(def.Name, "interview.completed", "iv", time.Now())
	resp, m := post(t, srv.URL+"/in/koji", body, http.Header{"X-Koji-Signature": {"sha256=zz"}})
	if resp.StatusCode != 401 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b, _ := json.Marshal(m)
	if bytes.Contains(b, []byte("ks")) {
		t.Errorf("error body mentions the secret: %s", b)
	}
}

// When the in-flight budget is held by whole bodies waiting for the store,
// there is nothing to cut: a delivery that finds no room within the ack
// timeout gets 503, and memory stays within the budget.
func TestInflightBodyBudgetAnswers503WhenFull(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	store := storeFunc(func(context.Context, *inbox.Event) (inbox.Result, error) {
		entered <- struct{}{}
		<-release // the store is stuck: the body stays in memory
		return inbox.Result{ID: "ev-1"}, nil
	})
	s, err := gateway.New(gateway.Config{
		AckTimeout: 500 * time.Millisecond, MaxBodyBytes: 1 << 20, MaxInflightBytes: 1 << 20,
		Sources: []gateway.Source{{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"ks"}}}},
	}, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	big := func(iv string) ([]byte, http.Header) { // a signed delivery of 600 KB
		def, _ := gateway.Lookup("koji")
		body := append(sender.Sample(def.Name, "interview.completed", iv, time.Now()), bytes.Repeat([]byte(" "), 600<<10)...)
		return body, sender.Sign(def.Name, body, "ks", time.Now())
	}
	firstDone := make(chan int, 1)
	body1, h1 := big("iv-1")
	go func() {
		resp, _ := post(t, srv.URL+"/in/koji", body1, h1)
		firstDone <- resp.StatusCode
	}()
	<-entered
	body2, h2 := big("iv-2")
	if resp, m := post(t, srv.URL+"/in/koji", body2, h2); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("with the budget held by a stuck delivery: %d %v, want 503 with Retry-After", resp.StatusCode, m)
	}
	close(release)
	if code := <-firstDone; code != http.StatusOK {
		t.Errorf("stuck delivery, once the store returned: %d, want 200", code)
	}
}

// blockingHook holds up each access-log line until release is closed,
// and notes whether it had to give up waiting.
type blockingHook struct {
	release  chan struct{}
	timedOut chan bool
}

func (h *blockingHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *blockingHook) Fire(e *logrus.Entry) error {
	if e.Message != "request" {
		return nil
	}
	select {
	case <-h.release:
		h.timedOut <- false
	case <-time.After(3 * time.Second):
		h.timedOut <- true
	}
	return nil
}

// The provider gets its answer before porch writes the access-log line:
// logging is off the ack's path.
func TestAnswerIsSentBeforeTheLogLine(t *testing.T) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	hook := &blockingHook{release: make(chan struct{}), timedOut: make(chan bool, 1)}
	log.AddHook(hook)
	s, err := gateway.New(gateway.Config{
		Sources: []gateway.Source{{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"ks"}}}},
	}, openInbox(t), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, m := post(t, srv.URL+"/in/koji", []byte(`{}`), nil) // unsigned, no event: Koji's URL check
	close(hook.release)
	if resp.StatusCode != http.StatusOK || m["control"] != true {
		t.Fatalf("answer %d %v, want 200 to a control request", resp.StatusCode, m)
	}
	if <-hook.timedOut {
		t.Error("the answer arrived only after the log line was written")
	}
}
