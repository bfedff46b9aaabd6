package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures one load run.
type Config struct {
	Targets     []*Target
	Concurrency int           // senders; default 32
	Duration    time.Duration // stop after this long (when Count is 0); default 10s
	Count       int           // stop after this many requests, if > 0
	Dup         float64       // fraction of exact resends of earlier fresh deliveries
	Bad         float64       // fraction signed with a wrong secret
	Client      *http.Client  // default: a keep-alive client sized for Concurrency
	// OnAck, if set, is called (from the sender goroutines) for every
	// fresh delivery answered 200 with a new event id.
	OnAck func(d Delivery, id string, at time.Time)
}

func (c *Config) setDefaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Duration <= 0 && c.Count <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Client == nil {
		c.Client = NewClient(c.Concurrency)
	}
}

// NewClient returns a keep-alive HTTP client with enough idle connections
// for n concurrent senders.
func NewClient(n int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * n
	tr.MaxIdleConnsPerHost = 2 * n
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Report is the outcome of a run.
type Report struct {
	Elapsed    time.Duration  `json:"elapsed_ns"`
	Requests   int            `json:"requests"`
	Errors     int            `json:"transport_errors"`
	Status     map[int]int    `json:"status"`         // HTTP status → count
	Kinds      map[string]int `json:"kinds"`          // fresh | dup | bad → count sent
	Wrong      int            `json:"wrong_answers"`  // fresh/dup not 200, bad not 401, dup not flagged
	NewEvents  int            `json:"new_events"`     // 200 with duplicate:false
	Duplicates int            `json:"duplicate_acks"` // 200 with duplicate:true
	Throughput float64        `json:"acks_per_sec"`   // 200 answers per second
	RPS        float64        `json:"requests_per_sec"`
	Ack        Latency        `json:"ack_latency"` // latency of 200 answers
	FirstError string         `json:"first_error,omitempty"`
}

// worker is one sender's tally; merged at the end, so no locks per request.
type worker struct {
	gen      *Generator
	lat      []time.Duration
	status   map[int]int
	kinds    map[string]int
	errs     int
	wrong    int
	fresh    int
	dups     int
	firstErr string
}

// Run sends deliveries until the duration passes, Count requests have
// been sent, or ctx ends, and reports what came back.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg.setDefaults()
	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		g, err := NewGenerator(cfg.Targets, cfg.Dup, cfg.Bad, uint64(i+1)*0x2545f4914f6cdd1d^uint64(time.Now().UnixNano()))
		if err != nil {
			return Report{}, err
		}
		workers[i] = &worker{gen: g, status: map[int]int{}, kinds: map[string]int{}}
	}
	if cfg.Duration > 0 && cfg.Count <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var budget atomic.Int64
	budget.Store(int64(cfg.Count))
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && (cfg.Count <= 0 || budget.Add(-1) >= 0) {
				w.send(ctx, cfg.Client, cfg.OnAck)
			}
		})
	}
	wg.Wait()
	return merge(workers, time.Since(start)), nil
}

// send sends one delivery and tallies the answer.
func (w *worker) send(ctx context.Context, c *http.Client, onAck func(Delivery, string, time.Time)) {
	d := w.gen.Next()
	req, err := d.Request()
	if err != nil {
		w.fail(err)
		return
	}
	w.kinds[d.Kind.String()]++
	t0 := time.Now()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() == nil {
			w.fail(err)
		}
		return
	}
	var a struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	at := time.Now()
	if err != nil {
		w.fail(err)
		return
	}
	w.status[resp.StatusCode]++
	if resp.StatusCode == http.StatusOK {
		w.lat = append(w.lat, at.Sub(t0))
		_ = json.Unmarshal(raw, &a)
		if a.Duplicate {
			w.dups++
		} else {
			w.fresh++
		}
	}
	if !answerFits(d.Kind, resp.StatusCode, a.Duplicate) {
		w.wrong++
		if w.firstErr == "" {
			w.firstErr = fmt.Sprintf("%s delivery answered %d: %.200s", d.Kind, resp.StatusCode, raw)
		}
	}
	if onAck != nil && resp.StatusCode == http.StatusOK && !a.Duplicate && a.ID != "" {
		onAck(d, a.ID, at)
	}
}

// answerFits reports whether status (and the duplicate flag) is what the
// contract promises for a delivery of kind k. A resend of a delivery that
// was itself refused (503) may come back fresh, so Dup only needs 200.
func answerFits(k Kind, status int, dup bool) bool {
	switch k {
	case Bad:
		return status == http.StatusUnauthorized
	case Fresh:
		return status == http.StatusOK && !dup
	default:
		return status == http.StatusOK
	}
}

func (w *worker) fail(err error) {
	w.errs++
	if w.firstErr == "" && !errors.Is(err, context.Canceled) {
		w.firstErr = err.Error()
	}
}

// merge adds up the workers' tallies.
func merge(ws []*worker, elapsed time.Duration) Report {
	r := Report{Elapsed: elapsed, Status: map[int]int{}, Kinds: map[string]int{}}
	var lat []time.Duration
	for _, w := range ws {
		lat = append(lat, w.lat...)
		for k, v := range w.status {
			r.Status[k] += v
			r.Requests += v
		}
		for k, v := range w.kinds {
			r.Kinds[k] += v
		}
		r.Errors += w.errs
		r.Requests += w.errs
		r.Wrong += w.wrong
		r.NewEvents += w.fresh
		r.Duplicates += w.dups
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	r.Ack = Summarize(lat)
	if s := elapsed.Seconds(); s > 0 {
		r.Throughput = float64(r.Status[http.StatusOK]) / s
		r.RPS = float64(r.Requests) / s
	}
	return r
}
