package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

const (
	adminToken   = "test-admin-token"
	auditorToken = "test-auditor-token"
)

// adminEnv is a real admin listener on 127.0.0.1:0 over a real inbox in
// a TempDir.
type adminEnv struct {
	db    *badger.DB
	admin *admin.Server
	base  string
	ids   []string // archived events, oldest first
	t0    time.Time
}

type adminOpt func(*admin.Config)

func startAdmin(t *testing.T, opts ...adminOpt) *adminEnv {
	t.Helper()
	return startAdminStore(t, badger.Options{}, func(_ *badger.DB, c *admin.Config) {
		for _, o := range opts {
			o(c)
		}
	})
}

// startAdminStore is startAdmin with the store's options (Dir is always a
// TempDir) and a hook that configures the listener with the store at hand.
func startAdminStore(t *testing.T, opt badger.Options, configure func(*badger.DB, *admin.Config)) *adminEnv {
	t.Helper()
	opt.Dir = t.TempDir()
	db, err := badger.Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	env := &adminEnv{db: db, t0: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	cfg := admin.Config{
		Listen: "127.0.0.1:0", AdminTokens: []string{adminToken}, AuditorTokens: []string{auditorToken},
		DetailExtras: map[string]func(string) (any, error){
			"enrichment": func(id string) (any, error) { return map[string]any{"interview": map[string]string{"id": id}}, nil },
		},
	}
	configure(db, &cfg)
	a, err := admin.New(cfg, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		db.Close()
	})
	env.base, env.admin = "http://"+a.Addr(), a
	for i := range 9 {
		env.ids = append(env.ids, env.accept(t, i))
	}
	return env
}

// accept archives event i: interviews int-0..int-2 in turn, koji except
// every third (gather), type alternating, 1 s apart from t0.
func (env *adminEnv) accept(t *testing.T, i int) string {
	t.Helper()
	body := fmt.Sprintf(`{"event":"interview.completed","data":{"interview_id":"int-%d","n":%d}}`, i%3, i)
	sum := sha256.Sum256([]byte(body))
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: fmt.Sprint("int-", i%3),
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: env.t0.Add(time.Duration(i) * time.Second),
		RemoteAddr: "203.0.113.7", ContentType: "application/json",
		Headers: map[string][]string{"User-Agent": {"Koji-Webhooks/1.0"}, "Koji-Signature": {"t=1,v1=abc"}},
		Body:    []byte(body), BodySHA256: hex.EncodeToString(sum[:]), BodySize: len(body),
		DedupKeys: []string{fmt.Sprint("n:", i)}, Destinations: []string{"app"},
		Verification: inbox.Verification{Mode: "raw"},
	}
	if i%2 == 1 {
		ev.Type = "interview.analysis_ready"
	}
	if i%3 == 2 {
		ev.Source, ev.Provider = "gather", "gather"
	}
	r, err := env.db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// deadLetter gives up on the pending delivery of id to app, as the
// forwarder would after a permanent failure.
func (env *adminEnv) deadLetter(t *testing.T, id string) {
	t.Helper()
	a := &inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Number: 1, Status: 410, Error: "status 410"}
	if err := env.db.DeadLetter(queuedDelivery(t, env.db, id, "app"), a, "HTTP 410 from destination"); err != nil {
		t.Fatal(err)
	}
}

// replays counts the replay requests in id's delivery history.
func (env *adminEnv) replays(t *testing.T, id string) (n int, by string) {
	t.Helper()
	at, err := env.db.Attempts(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range at {
		if a.Kind == inbox.AttemptReplay {
			n, by = n+1, a.By
		}
	}
	return n, by
}

type reqOpt func(*http.Request)

func bearerAuth(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func basicAuth(tok string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth("auditor", tok) }
}

func header(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func (env *adminEnv) do(t *testing.T, method, path string, body io.Reader, opts ...reqOpt) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, env.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func (env *adminEnv) get(t *testing.T, path string, opts ...reqOpt) (*http.Response, string) {
	t.Helper()
	return env.do(t, http.MethodGet, path, nil, opts...)
}

func TestAdminRoutesAuthAndRoles(t *testing.T) {
	env := startAdmin(t)
	id := env.ids[0]
	routes := []struct {
		path  string
		admin bool
	}{
		{"/", false},
		{"/ui/events/" + id, false},
		{"/ui/events/" + id + "/raw", false},
		{"/ui/deadletters", false},
		{"/ui/rejections", false},
		{"/ui/verify", false},
		{"/ui/access", true},
		{"/api/v1/events", false},
		{"/api/v1/events/" + id, false},
		{"/api/v1/events/" + id + "/raw", false},
		{"/api/v1/export", false},
		{"/api/v1/archive/verify", false},
		{"/api/v1/rejections", false},
		{"/api/v1/access", true},
		{"/api/v1/deadletters", false},
	}
	for _, rt := range routes {
		t.Run(rt.path, func(t *testing.T) {
			resp, body := env.get(t, rt.path)
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if !strings.Contains(body, `"error"`) {
				t.Errorf("401 body not JSON error: %s", body)
			}
			if resp, _ := env.get(t, rt.path, bearerAuth("wrong-token")); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("wrong token: %d", resp.StatusCode)
			}
			want := http.StatusOK
			if rt.admin {
				want = http.StatusForbidden
			}
			if resp, _ := env.get(t, rt.path, basicAuth(auditorToken)); resp.StatusCode != want {
				t.Errorf("auditor (basic): %d, want %d", resp.StatusCode, want)
			}
			if resp, _ := env.get(t, rt.path, bearerAuth(auditorToken)); resp.StatusCode != want {
				t.Errorf("auditor (bearer): %d, want %d", resp.StatusCode, want)
			}
			if resp, _ := env.get(t, rt.path, bearerAuth(adminToken)); resp.StatusCode != http.StatusOK {
				t.Errorf("admin: %d", resp.StatusCode)
			}
			if resp, _ := env.get(t, rt.path, header("Authorization", "bEARER "+adminToken)); resp.StatusCode != http.StatusOK {
				t.Errorf("admin, scheme in another case: %d", resp.StatusCode)
			}
		})
	}
	// An escaped slash does not reach another route.
	for _, p := range []string{"/api/v1/events/" + id + "%2Fraw", "/ui/events/" + id + "%2Fraw"} {
		if resp, body := env.get(t, p, bearerAuth(auditorToken)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %.80s", p, resp.StatusCode, body)
		}
	}
	// Replay through the page is for admins only.
	form := url.Values{"csrf": {"x"}}.Encode()
	resp, _ := env.do(t, http.MethodPost, "/ui/events/"+id+"/replay", strings.NewReader(form), bearerAuth(auditorToken),
		header("Content-Type", "application/x-www-form-urlencoded"))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("auditor replay: %d", resp.StatusCode)
	}
}

func TestAdminPagesCarrySecurityHeaders(t *testing.T) {
	env := startAdmin(t)
	for _, p := range []string{"/", "/ui/events/" + env.ids[0], "/ui/verify", "/nope"} {
		resp, _ := env.get(t, p, basicAuth(auditorToken))
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
			if resp.Header.Get(k) != v {
				t.Errorf("%s: %s = %q", p, k, resp.Header.Get(k))
			}
		}
	}
}

// Every store engine serves the admin listener: the union its handlers
// use is a subset of inbox.Store.
var _ admin.Archive = inbox.Store(nil)
