package gateway_test

import (
	"net/http"
	"testing"
	"time"
)

// A method a route does not serve gets 405 with an Allow header naming
// the methods that route does serve.
func TestMethodNotAllowedNamesTheAllowedMethods(t *testing.T) {
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
