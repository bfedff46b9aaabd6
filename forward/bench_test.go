package forward

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// BenchmarkForward measures the forwarding path end to end: b.N events
// already in a real inbox, one dispatcher, a real local HTTP destination
// answering 200. Each op is one event picked from the outbox, enveloped,
// signed, sent and settled durably. Events are spread over 1,000
// interviews so per-interview ordering does not serialise the run.
func BenchmarkForward(b *testing.B) {
	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			var delivered, requests atomic.Int64
			var seen sync.Map
			all := make(chan struct{}) // closed when the last new event arrives
			s := newSink(b, func(_ int, h hit, w http.ResponseWriter) {
				requests.Add(1)
				if _, dup := seen.LoadOrStore(h.header.Get("webhook-id"), true); !dup && delivered.Add(1) == int64(b.N) {
					close(all)
				}
				w.WriteHeader(http.StatusOK)
			})
			db := openDB(b, b.TempDir(), nil)
			body := `{"event":"interview.completed","data":{"interview_id":"%s","n":%d,"answers":[1,2,3],"summary":"A realistic summary of a customer interview."}}`
			for i := range b.N {
				iv := fmt.Sprint("iv-", i%1000)
				accept(b, db, iv, fmt.Sprintf(body, iv, i), "app")
			}
			d := testDest("app", s.URL)
			d.Concurrency = conc
			b.ResetTimer()
			_, stop := startCfg(b, db, Config{Destinations: []Destination{d}, Poll: 5 * time.Millisecond, HTTPRetries: -1})
			<-all
			b.StopTimer()
			stop()
			b.ReportMetric(float64(requests.Load()-delivered.Load())/float64(b.N), "redelivered/op")
			st, err := db.OutboxStats()
			if err != nil {
				b.Fatal(err)
			}
			if st["app"].Depth != 0 {
				b.Fatalf("%d still pending after every event reached the sink", st["app"].Depth)
			}
		})
	}
}

// BenchmarkEnvelopeAndSign is the CPU part of one forward: the envelope
// around a 1 KiB payload and its Standard Webhooks signature.
func BenchmarkEnvelopeAndSign(b *testing.B) {
	payload := make([]byte, 0, 1024)
	payload = append(payload, `{"event":"interview.completed","data":{"interview_id":"iv-1","text":"`...)
	for len(payload) < 1000 {
		payload = append(payload, "lorem ipsum "...)
	}
	payload = append(payload, `"}}`...)
	ev := &inbox.Event{ID: "01KAB0000000000000000000EV", Source: "koji", Provider: "koji", Type: "interview.completed",
		InterviewID: "iv-1", ReceivedAt: time.Now(), Status: inbox.StatusAccepted}
	key := []byte("dev-forward-secret-key")
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		env, err := EnvelopeBody(ev, payload, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = Sign(key, ev.ID, time.Now(), env)
	}
}
