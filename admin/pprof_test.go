package admin_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The profiler is on the admin listener, for admin tokens only.
func TestAdminPprofNeedsAdmin(t *testing.T) {
	env := startAdmin(t)
	for _, tt := range []struct {
		token string
		want  int
	}{{"", 401}, {auditorToken, 403}, {adminToken, 200}} {
		req, _ := http.NewRequest(http.MethodGet, env.base+"/debug/pprof/heap?debug=1", nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("token %q: status %d, want %d", tt.token, resp.StatusCode, tt.want)
		}
		if tt.want == 200 && !strings.Contains(string(body), "heap profile") {
			t.Errorf("admin got no heap profile: %.200s", body)
		}
	}
}
