package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/sender"
	"github.com/sirupsen/logrus"
)

// BenchmarkIngest measures the whole accept path as a client sees it: the
// ingest router and middleware (request id, access log as JSON at info),
// signature verification, parsing, and a durable group-committed Accept
// into a real Badger directory, fsync included. "parallel" runs 32
// senders, as `porch bench` does by default.
func BenchmarkIngest(b *testing.B) {
	for _, p := range []string{"koji", "gather"} {
		b.Run(p+"/sequential", func(b *testing.B) { benchIngest(b, p, 0) })
		b.Run(p+"/parallel", func(b *testing.B) { benchIngest(b, p, 32) })
	}
}

func benchIngest(b *testing.B, provider string, parallel int) {
	h, deliveries := newIngestBench(b, provider)
	b.ReportAllocs()
	b.ResetTimer()
	if parallel == 0 {
		for b.Loop() {
			postIngest(b, h, deliveries())
		}
		return
	}
	b.SetParallelism(max(1, parallel/max(1, testingProcs())))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			postIngest(b, h, deliveries())
		}
	})
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }

// newIngestBench starts a Server over a fresh store and returns its handler
// and a generator of signed deliveries with unique interview ids.
func newIngestBench(b *testing.B, provider string) (http.Handler, func() *http.Request) {
	b.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	log.SetFormatter(&logrus.JSONFormatter{})
	db, err := badger.Open(badger.Options{Dir: b.TempDir(), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	const secret = "bench-secret"
	s, err := New(Config{
		Sources: []Source{{Name: provider, Provider: provider, ProviderConfig: ProviderConfig{Secrets: []string{secret}}}},
		Route:   func(string, string) []string { return []string{"app"} },
	}, db, db, log)
	if err != nil {
		b.Fatal(err)
	}
	def, _ := Lookup(provider)
	const placeholder = "ffffffff-eeee-4ddd-bccc-aaaaaaaaaaaa"
	tmpl := sender.Sample(def.Name, def.Events[1], placeholder, time.Now())
	var n atomic.Int64
	return s.Handler(), func() *http.Request {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1))
		now := time.Now()
		body := bytes.ReplaceAll(tmpl, []byte(placeholder), []byte(id))
		r := httptest.NewRequest(http.MethodPost, "/in/"+provider, bytes.NewReader(body))
		for k, v := range sender.Sign(def.Name, body, secret, now) {
			r.Header[k] = v
		}
		r.RemoteAddr = "127.0.0.1:40000"
		return r
	}
}

func postIngest(b *testing.B, h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"duplicate":true`)) {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}
