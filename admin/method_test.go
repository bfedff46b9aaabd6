package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// A method a route does not serve gets 405 with an Allow header naming
// the methods that route does serve, under /api/v1 too.
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
}
