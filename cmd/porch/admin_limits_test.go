package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// auth.rate_limit reaches the admin listener, and the access trail's drop
// counter is on /metrics. (At 0.001 rps the third request cannot be let
// through by time passing.)
func TestServeAdminRateLimitAndTrailMetric(t *testing.T) {
	yaml := strings.Replace(testConfig(t.TempDir(), "http://127.0.0.1:9/none"),
		"rate_limit: {rps: 0}", "rate_limit: {rps: 0.001, burst: 2}", 1)
	m, _ := startMain(t, yaml)
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+m.Admin.Addr()+path, nil)
		req.Header.Set("Authorization", "Bearer "+testAuditToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var codes []int
	for range 3 {
		code, _ := get("/api/v1/events")
		codes = append(codes, code)
	}
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK || codes[2] != http.StatusTooManyRequests {
		t.Errorf("statuses %v, want 200 200 429", codes)
	}
	// The archive commands say what the 429 means.
	c, ok := newAdminClient("archive ls", clientArgs(t, "--admin-url", "http://"+m.Admin.Addr(), "--token", testAuditToken), io.Discard)
	if !ok {
		t.Fatal("client")
	}
	var page map[string]any
	err := c.getJSON(t.Context(), "/api/v1/events", &page)
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "auth.rate_limit") ||
		!strings.Contains(err.Error(), "retry after ") {
		t.Errorf("client error: %v", err)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `porch_access_trail_dropped_total{class="search"} 0`) {
		t.Errorf("/metrics lacks the trail drop counter")
	}
}
