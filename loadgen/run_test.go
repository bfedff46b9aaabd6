package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/loadgen"
)

// startGateway runs the real ingest listener over a real store.
func startGateway(t *testing.T) string {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()}) // not in-memory: that mode caps values at 1 KiB
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := gateway.New(gateway.Config{Listen: "127.0.0.1:0", Sources: []gateway.Source{
		{Name: "k", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"ks"}}},
		{Name: "g", Provider: "gather", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"gs"}}},
	}}, db, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// The generator's deliveries verify against the real gateway: fresh ones
// are new events, resends duplicates, wrong signatures 401.
func TestRunAgainstGateway(t *testing.T) {
	url := startGateway(t)
	targets := []*loadgen.Target{
		{Source: "k", Provider: "koji", Secret: "ks", URL: url + "/in/k"},
		{Source: "g", Provider: "gather", Secret: "gs", URL: url + "/in/g"},
	}
	var acks atomic.Int64
	r, err := loadgen.Run(context.Background(), loadgen.Config{
		Targets: targets, Concurrency: 4, Count: 400, Dup: 0.2, Bad: 0.1,
		OnAck: func(loadgen.Delivery, string, time.Time) { acks.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 400 || r.Errors != 0 || r.Wrong != 0 {
		t.Fatalf("report %+v: want 400 requests, no errors, no wrong answers (first: %s)", r, r.FirstError)
	}
	if r.Status[200]+r.Status[401] != 400 || r.Status[401] != r.Kinds["bad"] {
		t.Errorf("status %v for kinds %v", r.Status, r.Kinds)
	}
	if r.NewEvents != r.Kinds["fresh"] || r.Duplicates != r.Kinds["dup"] || acks.Load() != int64(r.NewEvents) {
		t.Errorf("new %d dup %d acks %d for kinds %v", r.NewEvents, r.Duplicates, acks.Load(), r.Kinds)
	}
	if r.Ack.Count != r.Status[200] || r.Ack.P50 > r.Ack.P99 || r.Ack.P99 > r.Ack.Max {
		t.Errorf("latency summary %+v", r.Ack)
	}
}

func TestSinkMatchesForwards(t *testing.T) {
	sink := loadgen.NewSink()
	srv := httptest.NewServer(sink)
	defer srv.Close()
	start := time.Now()
	sink.Expect("ev1", start)
	sink.Expect("ev2", start)
	send := func(id string) {
		body := `{"id":"` + id + `","received_at":"` + start.Add(-time.Second).UTC().Format(time.RFC3339Nano) + `"}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("webhook-id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("ev1")
	send("ev1")
	if got := sink.Missing(); len(got) != 1 || got[0] != "ev2" {
		t.Fatalf("missing = %v, want [ev2]", got)
	}
	r := sink.Report(start)
	if r.Requests != 2 || r.Events != 1 || r.Redelivered != 1 || r.Missing != 1 || sink.Lag() != 1 {
		t.Errorf("report %+v lag %d", r, sink.Lag())
	}
	if r.Latency.Count != 1 || r.Latency.P50 < time.Second {
		t.Errorf("receive-to-forward latency %+v, want one sample of at least 1s", r.Latency)
	}
}

func TestSummarize(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Summarize(s)
	want := loadgen.Latency{Count: 100, Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond,
		P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if (loadgen.Summarize(nil) != loadgen.Latency{}) {
		t.Error("empty summary not zero")
	}
}

func TestReadRSSOfSelf(t *testing.T) {
	pid := os.Getpid()
	r, err := loadgen.ReadRSS(pid)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if r.Total <= 0 || r.Anon <= 0 || r.Anon+r.File > r.Total+r.Total/10 {
		t.Errorf("rss %+v", r)
	}
	if cpu, err := loadgen.ReadCPU(pid); err != nil || cpu < 0 {
		t.Errorf("cpu %v, %v", cpu, err)
	}
}
