package enrich_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/sirupsen/logrus"
)

const (
	kojiKey   = "pk_live_0123456789abcdef0123456789abcdef"
	gatherKey = "qapi_s3cr3t_0123456789abcdef"
)

// harness is an Enricher over a real store and a fake provider API.
type harness struct {
	t     *testing.T
	clk   *vclock
	db    *badger.DB
	api   *fakeAPI
	en    *enrich.Enricher
	logs  *bytes.Buffer
	nextN int
}

// newHarness builds one source "src" of provider against a fake API;
// tweak adjusts the config before New.
func newHarness(t *testing.T, provider string, tweak func(*enrich.Config)) *harness {
	t.Helper()
	h := &harness{t: t, clk: newVClock(), logs: &bytes.Buffer{}}
	key := kojiKey
	if provider == "gather" {
		key = gatherKey
	}
	h.api = newFakeAPI(t, provider, key, h.clk.Now)
	db, err := badger.Open(badger.Options{Dir: t.TempDir(), Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	log := logrus.New()
	log.SetOutput(h.logs)
	log.SetLevel(logrus.DebugLevel)
	log.SetFormatter(&logrus.JSONFormatter{})
	events := []string{"interview.analysis_ready"}
	if provider == "gather" {
		events = []string{"candidate_interview.completed"}
	}
	cfg := enrich.Config{
		Sources:  []enrich.SourceConfig{{Name: "src", Provider: provider, BaseURL: h.api.baseURL(), APIKey: key, Events: events}},
		MaxBlock: 24 * time.Hour, Logger: log, Now: h.clk.Now, Sleep: h.clk.Sleep,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h.en, err = enrich.New(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// event archives a delivery of type typ for interview id and returns it.
func (h *harness) event(typ, id string) *inbox.Event {
	h.t.Helper()
	h.nextN++
	body := []byte(`{"event":"` + typ + `","n":` + strconv.Itoa(h.nextN) + `}`)
	sum := sha256.Sum256(body)
	ev := &inbox.Event{
		Source: "src", Provider: h.api.provider, Type: typ, InterviewID: id, Status: inbox.StatusAccepted,
		Origin: inbox.OriginProvider, ReceivedAt: h.clk.Now(), BodySHA256: hex.EncodeToString(sum[:]),
		BodySize: len(body), Body: body, DedupKeys: []string{"body:" + hex.EncodeToString(sum[:])},
	}
	if _, err := h.db.Accept(context.Background(), ev); err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func (h *harness) prepare(ev *inbox.Event) enrich.Outcome {
	h.t.Helper()
	out, err := h.en.Prepare(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("Prepare(%s): %v", ev.InterviewID, err)
	}
	return out
}

func (h *harness) record(ev *inbox.Event) inbox.Enrichment {
	h.t.Helper()
	r, err := h.db.Enrichment(ev.ID)
	if err != nil {
		h.t.Fatalf("Enrichment(%s): %v", ev.ID, err)
	}
	return r
}

func header(o enrich.Outcome) string {
	if v := o.Header[enrich.HeaderEnrichment]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// waitFor polls cond until it holds, failing the test after 60 s: the
// package's one wait for work a goroutine under test does on its own. The
// bound only stops a hang, so it is generous for a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s", what)
		}
	}
}
