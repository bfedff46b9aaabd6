package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A method a route does not serve gets 405 with an Allow header naming
// the methods that route does serve, on both listeners and under /api/v1.
func TestMethodNotAllowedNamesTheAllowedMethods(t *testing.T) {
	env := startAdmin(t)
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodDelete, "/api/v1/events", "GET"},
		{http.MethodGet, "/api/v1/deadletters/replay", "POST"},
		{http.MethodPost, "/healthz", "GET"},
		{http.MethodPost, "/readyz", "GET, HEAD"},
	} {
		resp, body := env.do(t, c.method, c.path, nil, bearerAuth(adminToken))
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow ||
			!strings.Contains(body, `"error"`) {
			t.Errorf("admin %s %s: %d Allow %q %s", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	srv := newServer(t, nil, time.Second)
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/in/koji", "POST"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow {
			t.Errorf("ingest %s %s: %d Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}
