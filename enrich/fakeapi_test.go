package enrich_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vclock is a virtual clock shared by the code under test and the fake
// APIs: Sleep moves it forward at once, so minutes of rate limiting take
// microseconds. It only ever moves forward.
type vclock struct {
	mu sync.Mutex
	t  time.Time
}

func newVClock() *vclock { return &vclock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *vclock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

func (c *vclock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
}

// window is one of the fake's enforced rate limits.
type window struct {
	limit int
	size  time.Duration
}

// fakeAPI behaves like the documented Koji or Gather API: its envelopes
// and error bodies, its auth, and its rate limits, enforced with 429s and
// X-RateLimit-* headers. Failures, slowness and "processing" answers are
// switched on per test.
type fakeAPI struct {
	t        testing.TB
	provider string
	key, org string
	now      func() time.Time
	windows  []window
	srv      *httptest.Server

	mu         sync.Mutex
	hits       []time.Time    // admitted requests (counted by the limit)
	requests   int            // every request
	limited    int            // 429s answered
	fetches    map[string]int // results requests per interview id
	failN      int            // answer the next failN requests with 500
	throttleN  int            // answer the next throttleN requests with 429, Retry-After 1
	quiet      bool           // no X-RateLimit-* headers on admitted requests
	retryAfter bool           // koji: send Retry-After on 429 (older docs; current ones do not)
	processing map[string]int // per id: "processing" answers left before "complete"
	list       []map[string]any
	gate       chan struct{} // when set, results requests wait for it
	arrived    chan string   // when set, results requests announce themselves
}

func newFakeAPI(t testing.TB, provider, key string, now func() time.Time) *fakeAPI {
	f := &fakeAPI{t: t, provider: provider, key: key, now: now, fetches: map[string]int{}, processing: map[string]int{}}
	if provider == "koji" {
		f.windows = []window{{60, time.Minute}}
	} else {
		f.windows = []window{{1000, time.Hour}, {100, time.Minute}}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// baseURL is what an operator would configure.
func (f *fakeAPI) baseURL() string {
	if f.provider == "koji" {
		return f.srv.URL + "/api/v1"
	}
	return f.srv.URL
}

// prefill counts n requests made by someone else with the same key, now.
func (f *fakeAPI) prefill(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.hits = append(f.hits, f.now())
	}
}

func (f *fakeAPI) counts() (requests, limited int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.limited
}

func (f *fakeAPI) fetchesOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches[id]
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		f.fail(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid API key", nil)
		return
	}
	if !f.admit(w) {
		return
	}
	f.mu.Lock()
	failing := f.failN > 0
	if failing {
		f.failN--
	}
	f.mu.Unlock()
	if failing {
		f.fail(w, http.StatusInternalServerError, "INTERNAL_ERROR", "Internal server error", nil)
		return
	}
	f.route(w, r)
}

func (f *fakeAPI) authorized(r *http.Request) bool {
	switch {
	case f.provider == "koji":
		return r.Header.Get("Authorization") == "Bearer "+f.key
	case f.org != "":
		return r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(f.org+":"+f.key))
	}
	return r.Header.Get("x-api-key") == f.key
}

// admit enforces the sliding windows; it answers 429 and returns false
// when the request is over a limit.
func (f *fakeAPI) admit(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	now := f.now()
	remaining, reset, over := 1<<30, now, false
	for _, win := range f.windows {
		var in []time.Time
		for _, h := range f.hits {
			if h.After(now.Add(-win.size)) {
				in = append(in, h)
			}
		}
		if len(in) >= win.limit {
			over = true
			reset = later(reset, in[len(in)-win.limit].Add(win.size))
		}
		remaining = min(remaining, win.limit-len(in)-1)
		if len(in) > 0 {
			reset = later(reset, in[0].Add(win.size))
		}
	}
	resetUnix := (reset.UnixNano() + int64(time.Second) - 1) / int64(time.Second)
	if !over && f.quiet {
		f.hits = append(f.hits, now)
		return true
	}
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(f.windows[len(f.windows)-1].limit))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(resetUnix, 10))
	if over {
		f.limited++
		w.Header().Set("X-RateLimit-Remaining", "0")
		if f.retryAfter {
			w.Header().Set("Retry-After", strconv.FormatInt(resetUnix-now.Unix(), 10))
		}
		f.failLocked(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded",
			map[string]any{"limit": f.windows[0].limit, "remaining": 0, "resetAt": time.Unix(resetUnix, 0).UTC().Format(time.RFC3339)})
		return false
	}
	if f.throttleN > 0 { // a provider-side squeeze the windows do not explain
		f.throttleN--
		f.limited++
		w.Header().Set("Retry-After", "1")
		f.failLocked(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded", nil)
		return false
	}
	f.hits = append(f.hits, now)
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	return true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (f *fakeAPI) fail(w http.ResponseWriter, code int, gatherCode, msg string, details map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failLocked(w, code, gatherCode, msg, details)
}

// failLocked writes the provider's error body.
func (f *fakeAPI) failLocked(w http.ResponseWriter, code int, gatherCode, msg string, details map[string]any) {
	var body any
	if f.provider == "koji" {
		kojiCode := map[int]string{401: "unauthorized", 404: "not_found", 429: "rate_limited", 500: "internal_error"}[code]
		body = map[string]any{"error": kojiCode, "message": msg}
	} else {
		body = map[string]any{
			"error": map[string]any{"code": gatherCode, "message": msg, "details": details},
			"meta":  map[string]any{"requestId": fmt.Sprintf("req-%d", f.requests), "timestamp": f.now().Format(time.RFC3339)},
		}
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case f.provider == "koji" && strings.HasPrefix(p, "/api/v1/interviews/"):
		f.results(w, strings.TrimPrefix(p, "/api/v1/interviews/"))
	case f.provider == "gather" && strings.HasPrefix(p, "/qsi/gather/candidate-interviews/") && strings.HasSuffix(p, "/results"):
		f.results(w, strings.TrimSuffix(strings.TrimPrefix(p, "/qsi/gather/candidate-interviews/"), "/results"))
	case f.provider == "gather" && p == "/qsi/gather/candidate-interviews":
		f.listPage(w, r)
	default:
		f.fail(w, http.StatusNotFound, "NOT_FOUND", "Route not found", nil)
	}
}

// results answers the interview record of id; ids starting "missing-"
// do not exist.
func (f *fakeAPI) results(w http.ResponseWriter, id string) {
	f.mu.Lock()
	f.fetches[id]++
	gate, arrived := f.gate, f.arrived
	processing := f.processing[id] > 0
	if processing {
		f.processing[id]--
	}
	n := f.requests
	f.mu.Unlock()
	if arrived != nil {
		arrived <- id
	}
	if gate != nil {
		<-gate
	}
	if strings.HasPrefix(id, "missing-") {
		f.fail(w, http.StatusNotFound, "NOT_FOUND", "Candidate interview not found", map[string]any{"resource": "candidateInterview", "id": id})
		return
	}
	if f.provider == "koji" {
		writeJSON(w, 200, map[string]any{"id": id, "status": "completed",
			"transcript": []map[string]string{{"role": "assistant", "content": "Hi"}}, "analysis": map[string]any{"summary": "ok"}})
		return
	}
	status, summary := "complete", any("Strong candidate.")
	if processing {
		status, summary = "processing", nil
	}
	writeJSON(w, 200, map[string]any{
		"data": map[string]any{"candidateInterviewId": id, "summaryStatus": status, "summary": summary,
			"scoreCard": nil, "evaluationType": "ai_generated", "transcriptions": []any{}},
		"meta": map[string]any{"requestId": fmt.Sprintf("req-%d", n), "timestamp": f.now().Format(time.RFC3339)},
	})
}

// listPage answers GET candidate-interviews?status=&page=&limit=.
func (f *fakeAPI) listPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if page < 1 || limit < 1 || limit > 100 {
		f.fail(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid pagination", map[string]any{"field": "limit", "reason": "1..100"})
		return
	}
	f.mu.Lock()
	var all []map[string]any
	for _, it := range f.list {
		if q.Get("status") == "" || it["status"] == q.Get("status") {
			all = append(all, it)
		}
	}
	n := f.requests
	f.mu.Unlock()
	from, to := min((page-1)*limit, len(all)), min(page*limit, len(all))
	writeJSON(w, 200, map[string]any{
		"data": all[from:to],
		"meta": map[string]any{"requestId": fmt.Sprintf("req-%d", n), "timestamp": f.now().Format(time.RFC3339),
			"pagination": map[string]any{"page": page, "limit": limit, "total": len(all), "totalPages": (len(all) + limit - 1) / limit}},
	})
}
