package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox/badger"
)

// TestAdminReadyzFollowsTheStore: /readyz on the admin listener needs no
// token and answers as the ingest listener's does, 200 while the store
// takes deliveries and 503 once it does not, while /healthz stays 200.
func TestAdminReadyzFollowsTheStore(t *testing.T) {
	env := startAdminStore(t, badger.Options{}, func(db *badger.DB, c *admin.Config) { c.Ready = db.Ready })
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if resp, body := env.do(t, method, "/readyz", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s /readyz with the store open = %d %s, want 200", method, resp.StatusCode, body)
		}
	}
	if err := env.db.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := env.do(t, http.MethodGet, "/readyz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"unavailable"`) {
		t.Errorf("/readyz with the store closed = %d %s, want 503 unavailable", resp.StatusCode, body)
	}
	if resp, body := env.do(t, http.MethodGet, "/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the store closed = %d %s, want 200", resp.StatusCode, body)
	}
}
