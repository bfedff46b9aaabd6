package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/porchgw/porch/inbox"
)

func TestDeliverEnvelope(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	s := newSink(t, nil)
	body := "{\"event\": \"interview.completed\",\n \"data\": {\"id\": \"i-1\", \"note\": \"<b>&</b>\"}}"
	id := accept(t, db, "i-1", body, "app")
	start(t, db, nil, testDest("app", s.URL))
	as := waitAttempts(t, db, id, 1)

	if as[0].Outcome != inbox.OutcomeDelivered || as[0].Status != 200 || as[0].Number != 1 {
		t.Errorf("attempt = %+v", as[0])
	}
	if st := state(t, db, id, "app"); st.Status != inbox.DeliveryDelivered || st.Attempts != 1 {
		t.Errorf("state = %+v", st)
	}
	h := s.Hits()[0]
	for k, want := range map[string]string{
		"Webhook-Id": id, "X-Porch-Source": "koji", "X-Porch-Event": "interview.completed",
		"X-Porch-Interview-Id": "i-1", "X-Porch-Attempt": "1", "Content-Type": "application/json",
	} {
		if got := h.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var env struct {
		ID, Source, Provider, Type string
		InterviewID                string          `json:"interview_id"`
		ReceivedAt                 string          `json:"received_at"`
		Payload                    json.RawMessage `json:"payload"`
		Interview                  json.RawMessage `json:"interview"`
	}
	if err := json.Unmarshal(h.body, &env); err != nil {
		t.Fatalf("envelope %s: %v", h.body, err)
	}
	if env.ID != id || env.Source != "koji" || env.Provider != "koji" || env.Type != "interview.completed" || env.InterviewID != "i-1" {
		t.Errorf("envelope = %+v", env)
	}
	if !bytes.Contains(h.body, []byte(`"payload":`+body)) || string(env.Payload) != body {
		t.Errorf("payload not embedded byte for byte: %s", h.body)
	}
	if env.Interview != nil {
		t.Errorf("interview present without enrichment")
	}
	if _, err := time.Parse(ReceivedAtLayout, env.ReceivedAt); err != nil || !strings.HasSuffix(env.ReceivedAt, "Z") || len(env.ReceivedAt) != len("2026-11-23T10:00:00.123Z") {
		t.Errorf("received_at = %q", env.ReceivedAt)
	}
}

func TestSignatureVerifiesWithStandardWebhooks(t *testing.T) {
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatEnvelope, FormatRaw} {
		t.Run(format, func(t *testing.T) {
			db := openDB(t, "", nil)
			s := newSink(t, nil)
			id := accept(t, db, "i-1", `{"a":1}`, "app")
			d := testDest("app", s.URL)
			d.Format = format
			start(t, db, nil, d)
			waitAttempts(t, db, id, 1)
			h := s.Hits()[0]
			if err := wh.Verify(h.body, h.header); err != nil {
				t.Errorf("standard webhooks verify: %v", err)
			}
			if err := wh.Verify(append(h.body, ' '), h.header); err == nil {
				t.Error("tampered body verified")
			}
		})
	}
}

func TestRawFormatPassesProviderHeaders(t *testing.T) {
	db := openDB(t, "", nil)
	s := newSink(t, nil)
	body := `{"event":"interview.completed", "x": 1}`
	id := accept(t, db, "i-1", body, "app")
	d := testDest("app", s.URL)
	d.Format = FormatRaw
	start(t, db, nil, d)
	waitAttempts(t, db, id, 1)
	h := s.Hits()[0]
	if string(h.body) != body {
		t.Errorf("raw body = %q", h.body)
	}
	if got := h.header.Get("X-Koji-Signature"); got != "t=1,v1=abc" {
		t.Errorf("provider signature = %q", got)
	}
	if got := h.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("content type = %q", got)
	}
	if got := h.header.Get("User-Agent"); got != "Koji-Webhooks/1.0" {
		t.Errorf("user agent = %q, want the provider's", got)
	}
	if h.header.Get("Webhook-Id") != id || h.header.Get("X-Porch-Attempt") != "1" {
		t.Errorf("porch headers missing: %v", h.header)
	}
}

func TestPrepareSeam(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	s := newSink(t, nil)
	id := accept(t, db, "i-1", `{"a":1}`, "app")
	var calls atomic.Int32
	cfg := Config{
		Destinations: []Destination{testDest("app", s.URL)}, Poll: 5 * time.Millisecond, Now: c.Now,
		Prepare: func(_ context.Context, ev *inbox.Event) (PrepareResult, error) {
			if calls.Add(1) == 1 {
				return PrepareResult{WaitUntil: c.Now().Add(time.Minute)}, nil
			}
			return PrepareResult{Interview: json.RawMessage(`{"id":"i-1","name":"Ada"}`), Header: map[string][]string{"X-Extra": {"1"}}}, nil
		},
	}
	startCfg(t, db, cfg)
	waitFor(t, "deferral", func() bool { st := state(t, db, id, "app"); return st.NextAt.Equal(c.Now().Add(time.Minute)) })
	if len(attempts(t, db, id)) != 0 || len(s.Hits()) != 0 {
		t.Fatal("a deferral spent an attempt")
	}
	c.Advance(time.Minute)
	waitAttempts(t, db, id, 1)
	h := s.Hits()[0]
	if !bytes.HasSuffix(h.body, []byte(`,"interview":{"id":"i-1","name":"Ada"}}`)) || h.header.Get("X-Extra") != "1" {
		t.Errorf("enriched request = %s %v", h.body, h.header)
	}
	if got := h.header.Get("X-Porch-Attempt"); got != "1" {
		t.Errorf("attempt header = %q", got)
	}
}

var _ = http.StatusOK
