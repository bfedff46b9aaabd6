package forward

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestForwardReusesConnections: a destination at concurrency 16 keeps
// its connections open between requests instead of dialling anew.
func TestForwardReusesConnections(t *testing.T) {
	var conns atomic.Int64
	s := newSink(t, nil)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	db := openDB(t, t.TempDir(), nil)
	const n = 400
	acceptN(t, db, n, 100)
	d := testDest("app", s.URL)
	d.Concurrency = 16
	start(t, db, nil, d)
	waitFor(t, "every event forwarded", func() bool { return len(s.Hits()) >= n })
	if c := conns.Load(); c > 2*int64(d.Concurrency) {
		t.Errorf("%d connections opened for %d requests at concurrency %d", c, n, d.Concurrency)
	}
}
