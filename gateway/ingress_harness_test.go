package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/sender"
)

const kojiSecret = "test-koji-secret"

// startGateway runs a real ingest listener on 127.0.0.1:0 over a real
// store in a temp dir until the test ends.
func startGateway(t *testing.T, cfg gateway.Config) (*gateway.Server, *badger.DB) {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	if cfg.Sources == nil {
		cfg.Sources = []gateway.Source{kojiSource(kojiSecret)}
	}
	srv, err := gateway.New(cfg, db, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		db.Close()
	})
	return srv, db
}

func kojiSource(secrets ...string) gateway.Source {
	return gateway.Source{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: secrets}}
}

// signedKoji is a realistic Koji delivery signed with secret.
func signedKoji(t testing.TB, interview, secret string) ([]byte, http.Header) {
	t.Helper()
	def, _ := gateway.Lookup("koji")
	now := time.Now()
	body := sender.Sample(def.Name, "interview.completed", interview, now)
	return body, sender.Sign(def.Name, body, secret, now)
}

type answer struct {
	Status     int
	RetryAfter string
	ID         string `json:"id"`
	Duplicate  bool   `json:"duplicate"`
	Error      string `json:"error"`
}

// postDelivery delivers body to /in/source on base ("http://host:port") with
// headers h, using client (nil: a plain one).
func postDelivery(t testing.TB, client *http.Client, base, source string, body []byte, h http.Header) answer {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/in/"+source, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("decode answer (status %d): %v", resp.StatusCode, err)
	}
	a.Status, a.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	return a
}

// tlsClient trusts only roots and sends serverName as SNI.
func tlsClient(roots *tls.Config) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: roots}}
}

// A signed redelivery of interview.completed with other bytes is
// answered as the first one's duplicate, and its bytes are archived too,
// never forwarded: no payload received is lost.
func TestDuplicateWithOtherBytesIsKept(t *testing.T) {
	srv, db := startGateway(t, gateway.Config{})
	now := time.Now()
	base := "http://" + srv.Addr()
	first := sender.Sample("koji", "interview.completed", "iv-kept", now)
	again := bytes.Replace(first, []byte(`"interview.completed"`), []byte(`"interview.completed" `), 1)
	a := postDelivery(t, nil, base, "koji", first, sender.Sign("koji", first, kojiSecret, now))
	b := postDelivery(t, nil, base, "koji", again, sender.Sign("koji", again, kojiSecret, now))
	c := postDelivery(t, nil, base, "koji", again, sender.Sign("koji", again, kojiSecret, now))
	if a.Status != http.StatusOK || a.Duplicate || b.Status != http.StatusOK || !b.Duplicate || b.ID != a.ID || !c.Duplicate || c.ID != a.ID {
		t.Fatalf("answers %+v, %+v, %+v", a, b, c)
	}
	page, err := db.List(inbox.Query{InterviewID: "iv-kept", Limit: 10})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("archived %d events, %v; want the first and one kept duplicate", len(page.Events), err)
	}
	kept := page.Events[0] // newest first
	body, err := db.Body(kept.ID)
	if err != nil || !bytes.Equal(body, again) || kept.Status != inbox.StatusDuplicate || kept.DuplicateOf != a.ID {
		t.Errorf("kept duplicate %+v: body %q, %v", kept, body, err)
	}
}
