package forward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// acceptEvent stores ev (its body in ev.Body) queued for dests, filling
// in what every event needs.
func acceptEvent(t testing.TB, db *badger.DB, ev *inbox.Event, dests ...string) string {
	t.Helper()
	sum := sha256.Sum256(ev.Body)
	h := hex.EncodeToString(sum[:])
	ev.Source, ev.Provider = "koji", "koji"
	ev.Status, ev.Origin, ev.ReceivedAt = inbox.StatusAccepted, inbox.OriginProvider, time.Now()
	ev.BodySHA256, ev.BodySize = h, len(ev.Body)
	ev.DedupKeys, ev.Destinations = []string{"body:" + h}, dests
	res, err := db.Accept(context.Background(), ev)
	if err != nil || res.Duplicate {
		t.Fatalf("accept = %+v, %v", res, err)
	}
	return res.ID
}

// breakerFailures is how many failures dest's circuit has counted, and
// whether it is open.
func breakerFailures(d *Dispatcher, dest string) (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.dests[dest].breaker
	return b.failures, !b.openTill.IsZero()
}

// tamperSource serves the real archive but lets a test edit the events
// it hands out, to reach data the gateway would never store.
type tamperSource struct {
	*badger.DB
	edit func(*inbox.Event)
}

func (s tamperSource) EventWithBody(id string) (*inbox.Event, error) {
	ev, err := s.DB.EventWithBody(id)
	if err == nil {
		s.edit(ev)
	}
	return ev, err
}

// poisonDest is a destination whose circuit opens, for an hour of the
// test clock, on the first failure it counts.
func poisonDest(url string) Destination {
	d := testDest("app", url)
	d.Concurrency = 1
	d.Circuit = CircuitConfig{Failures: 1, Cooldown: time.Hour}
	return d
}

// TestHeaderValuesFromPayloadLeftOut: an event whose type and interview id
// cannot travel as header values is delivered without those headers (the
// envelope carries the true values), counts nothing against the circuit,
// and good events that follow it are delivered.
func TestHeaderValuesFromPayloadLeftOut(t *testing.T) {
	c := newClock()
	db := openDB(t, t.TempDir(), c)
	s := newSink(t, nil)
	poisonType, poisonIV := "interview.completed\r\nX-Injected: 1", "iv\n1"
	poison := acceptEvent(t, db, &inbox.Event{Type: poisonType, InterviewID: poisonIV, ContentType: "application/json",
		Body: []byte(`{"event":"interview.completed"}`)}, "app")
	disp, _ := start(t, db, c, poisonDest(s.URL))
	waitAttempts(t, db, poison, 1)
	good := []string{accept(t, db, "iv-2", `{"n":2}`, "app"), accept(t, db, "iv-3", `{"n":3}`, "app")}
	for _, id := range append([]string{poison}, good...) {
		waitFor(t, "delivered", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDelivered })
	}
	if n, open := breakerFailures(disp, "app"); n != 0 || open {
		t.Errorf("circuit counted %d failures, open %v", n, open)
	}
	hits := s.Hits()
	if len(hits) != 3 {
		t.Fatalf("%d requests, want 3", len(hits))
	}
	h := hits[0]
	for _, k := range []string{HeaderEvent, HeaderInterview, "X-Injected"} {
		if v, ok := h.header[k]; ok {
			t.Errorf("header %s = %q, want it left out", k, v)
		}
	}
	if h.header.Get("Webhook-Id") != poison || h.header.Get(HeaderSource) != "koji" {
		t.Errorf("porch headers = %v", h.header)
	}
	var env struct {
		Type        string `json:"type"`
		InterviewID string `json:"interview_id"`
	}
	if err := json.Unmarshal(h.body, &env); err != nil || env.Type != poisonType || env.InterviewID != poisonIV {
		t.Errorf("envelope = %+v, %v; want the true type and interview id", env, err)
	}
	if got := hits[1].header.Get(HeaderInterview); got != "iv-2" {
		t.Errorf("good event's interview header = %q", got)
	}
}

// TestUnbuildableRequestIsPermanent: an event porch cannot turn into a
// request is dead-lettered at once with the reason, is never sent, spends
// nothing of the circuit, and fails the same way when replayed, while
// the destination keeps receiving good events.
func TestUnbuildableRequestIsPermanent(t *testing.T) {
	c := newClock()
	db := openDB(t, t.TempDir(), c)
	s := newSink(t, nil)
	poison := accept(t, db, "iv-1", `{"n":1}`, "app")
	src := tamperSource{db, func(ev *inbox.Event) {
		if ev.ID == poison {
			ev.ID += "\n" // an id net/http cannot send as webhook-id
		}
	}}
	cfg := Config{Destinations: []Destination{poisonDest(s.URL)}, Poll: 10 * time.Millisecond, HTTPRetries: -1, Now: c.Now}
	disp, err := New(cfg, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = disp.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	waitAttempts(t, db, poison, 1)
	good := accept(t, db, "iv-2", `{"n":2}`, "app")
	waitFor(t, "good event delivered", func() bool { return state(t, db, good, "app").Status == inbox.DeliveryDelivered })
	checkDead := func(records int) {
		t.Helper()
		waitFor(t, "poison dead-lettered", func() bool { return state(t, db, poison, "app").Status == inbox.DeliveryDead })
		st := state(t, db, poison, "app")
		if !strings.Contains(st.LastError, "cannot build the request") || !strings.Contains(st.LastError, "Webhook-Id") {
			t.Errorf("last error = %q", st.LastError)
		}
		if as := attempts(t, db, poison); len(as) != records || as[len(as)-1].Outcome != inbox.OutcomeDead {
			t.Errorf("attempts = %+v, want %d records ending dead", as, records)
		}
		if n, open := breakerFailures(disp, "app"); n != 0 || open {
			t.Errorf("circuit counted %d failures, open %v", n, open)
		}
	}
	checkDead(1)
	if _, err := db.Replay(poison, "", inbox.ReplayRequest{By: "test", Reason: "retry"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replay settled", func() bool { return len(attempts(t, db, poison)) == 3 }) // dead, replay, dead
	checkDead(3)
	good2 := accept(t, db, "iv-3", `{"n":3}`, "app")
	waitFor(t, "good event delivered", func() bool { return state(t, db, good2, "app").Status == inbox.DeliveryDelivered })
	for _, h := range s.Hits() {
		if h.header.Get("Webhook-Id") == poison {
			t.Error("the unbuildable event reached the destination")
		}
	}
}

// TestRawSendsResolvedClientAddress: format raw replaces the client's own
// X-Forwarded-For and X-Real-Ip with the address porch resolved, and
// sends neither when it has none.
func TestRawSendsResolvedClientAddress(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	s := newSink(t, nil)
	spoofed := map[string][]string{
		"X-Forwarded-For": {"6.6.6.6, 10.0.0.1"}, "X-Real-Ip": {"6.6.6.6"}, "Forwarded": {"for=6.6.6.6"},
		"X-Koji-Signature": {"t=1,v1=abc"},
	}
	withAddr := acceptEvent(t, db, &inbox.Event{Type: "interview.completed", RemoteAddr: "203.0.113.7",
		Headers: spoofed, Body: []byte(`{"n":1}`)}, "app")
	without := acceptEvent(t, db, &inbox.Event{Type: "interview.completed", Headers: spoofed, Body: []byte(`{"n":2}`)}, "app")
	d := testDest("app", s.URL)
	d.Format = FormatRaw
	start(t, db, nil, d)
	waitAttempts(t, db, withAddr, 1)
	waitAttempts(t, db, without, 1)
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{withAddr: "203.0.113.7", without: ""}
	for _, h := range s.Hits() {
		addr := want[h.header.Get("Webhook-Id")]
		for _, k := range []string{"X-Forwarded-For", "X-Real-Ip"} {
			if got := strings.Join(h.header.Values(k), ","); got != addr {
				t.Errorf("%s = %q, want %q", k, got, addr)
			}
		}
		if v := h.header.Values("Forwarded"); v != nil {
			t.Errorf("Forwarded = %q, want it left out", v)
		}
		if h.header.Get("X-Koji-Signature") != "t=1,v1=abc" {
			t.Errorf("provider signature not passed: %v", h.header)
		}
		if err := wh.Verify(h.body, h.header); err != nil {
			t.Errorf("standard webhooks verify: %v", err)
		}
	}
}

// TestRedirectIsNotFollowed: a destination that answers a redirect has
// not taken the event. Whatever the code (a 301 would have become a GET
// without the body, a 307 would have carried the signed body to another
// host), nothing is sent to the Location, the attempt fails with a reason
// that names the redirect, and the event is dead-lettered as a 3xx is
// permanent.
func TestRedirectIsNotFollowed(t *testing.T) {
	elsewhere := newSink(t, nil)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			c := newClock()
			db := openDB(t, t.TempDir(), c)
			s := newSink(t, func(n int, h hit, w http.ResponseWriter) {
				w.Header().Set("Location", strings.Replace(elsewhere.URL, "http://", "http://user:pw@", 1)+"/taken")
				w.WriteHeader(code)
			})
			id := accept(t, db, "iv-1", `{"n":1}`, "app")
			start(t, db, c, poisonDest(s.URL))
			waitFor(t, "dead-lettered", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDead })
			st := state(t, db, id, "app")
			if !strings.Contains(st.LastError, "status "+strconv.Itoa(code)+": redirects are not followed") ||
				!strings.Contains(st.LastError, elsewhere.URL+"/taken") || strings.Contains(st.LastError, "pw@") {
				t.Errorf("last error = %q", st.LastError)
			}
		})
	}
	if n := len(elsewhere.Hits()); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"86400", 24 * time.Hour},
		{"86401", maxRetryAfter},
		{"9223372036", maxRetryAfter}, // seconds that overflow a Duration
		{"18446744074", maxRetryAfter},
		{"99999999999999999999999", maxRetryAfter},
		{now.Add(10 * time.Minute).Format(http.TimeFormat), 10 * time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(c.v, now); got != c.want {
			t.Errorf("Retry-After %q: %s, want %s", c.v, got, c.want)
		}
	}
}
