package forward

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://hooks.example.com/in", "https://hooks.example.com/in"},
		{"https://u:pw@hooks.example.com/in", "https://u:xxxxx@hooks.example.com/in"},
		{"https://hooks.example.com/in?token=T0K&x=1&flag", "https://hooks.example.com/in?token=xxxxx&x=xxxxx&flag"},
		{"https://u:pw@h/in?token=T0K", "https://u:xxxxx@h/in?token=xxxxx"},
		{"://bad", "://bad"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestURLQueryTokenStaysHidden: a token in a destination URL's query
// string is a secret like its password: a failed attempt's history and
// the forwarder's log lines show it masked.
func TestURLQueryTokenStaysHidden(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every attempt fails with the URL in its error
	var logs bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logs)
	log.SetLevel(logrus.DebugLevel)
	c := newClock()
	db := openDB(t, t.TempDir(), c)
	id := accept(t, db, "iv-1", `{"n":1}`, "app")
	dest := testDest("app", "http://user:PASSW0RD@"+addr+"/hook?token=QTOKEN123&v=2")
	dest.MaxAttempts = 1
	cfg := Config{Destinations: []Destination{dest}, Poll: 10 * time.Millisecond, HTTPRetries: 1, HTTPRetryWaitMax: time.Millisecond, Now: c.Now}
	_, stop := startWith(t, cfg, db, db, log)
	waitFor(t, "dead-lettered", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDead })
	stop()
	st := state(t, db, id, "app")
	if !strings.Contains(st.LastError, "token=xxxxx") || strings.Contains(st.LastError, "QTOKEN123") {
		t.Errorf("last error = %q", st.LastError)
	}
	if out := logs.String(); strings.Contains(out, "QTOKEN123") || strings.Contains(out, "PASSW0RD") || !strings.Contains(out, "token=xxxxx") {
		t.Errorf("log:\n%s", out)
	}
}
