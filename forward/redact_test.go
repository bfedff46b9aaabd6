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
		{"https://u:pw@hooks.example.com/in", "https://xxxxx:xxxxx@hooks.example.com/in"},
		{"http://TOPSECRETUSERTOKEN@host/hook", "http://xxxxx@host/hook"},
		{"http://:pw@host/hook", "http://xxxxx:xxxxx@host/hook"},
		{"http://a@b:c@host/hook", "http://xxxxx:xxxxx@host/hook"},
		{"http://@host/hook", "http://@host/hook"},
		{"https://hooks.example.com/in?token=T0K&x=1&flag", "https://hooks.example.com/in?token=xxxxx&x=xxxxx&xxxxx"},
		{"http://127.0.0.1:9703/hook?TOPSECRETTOKEN", "http://127.0.0.1:9703/hook?xxxxx"},
		{"http://h/hook?a=1&&=T&b=", "http://h/hook?a=xxxxx&&=xxxxx&b=xxxxx"},
		{"http://h/hook?", "http://h/hook?"},
		{"https://u:pw@h/in?token=T0K#part", "https://xxxxx:xxxxx@h/in?token=xxxxx#part"},
		{"http://h/a@b?x=1", "http://h/a@b?x=xxxxx"},
		{"http://h/p?next=http://u:pw@other/", "http://h/p?next=xxxxx"},
		{"http://TOKEN@h:port/hook?SECRET", "http://xxxxx@h:port/hook?xxxxx"}, // no URL: still hidden
		{"://bad", "://bad"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestURLScrubber: the texts net/http and retryablehttp write about a
// request (the URL re-encoded, its password replaced by "***" or
// "xxxxx", inside %q or not) keep no user information or query of it.
func TestURLScrubber(t *testing.T) {
	for _, c := range []struct{ url, text, want string }{
		{"http://TOPSECRETUSERTOKEN@127.0.0.1:9703/hook",
			`Post "http://TOPSECRETUSERTOKEN@127.0.0.1:9703/hook": dial tcp 127.0.0.1:9703: connect: connection refused`,
			`Post "http://xxxxx@127.0.0.1:9703/hook": dial tcp 127.0.0.1:9703: connect: connection refused`},
		{"http://127.0.0.1:9703/hook?TOPSECRETTOKEN",
			`POST http://127.0.0.1:9703/hook?TOPSECRETTOKEN giving up after 3 attempt(s): Post "http://127.0.0.1:9703/hook?TOPSECRETTOKEN": EOF`,
			`POST http://127.0.0.1:9703/hook?xxxxx giving up after 3 attempt(s): Post "http://127.0.0.1:9703/hook?xxxxx": EOF`},
		{"http://u%40x:p%20w@h/hook?token=T0K",
			`Post "http://u%40x:***@h/hook?token=T0K": EOF; POST http://u%40x:xxxxx@h/hook?token=T0K; http://u%40x:p%20w@h/hook?token=T0K`,
			`Post "http://xxxxx:xxxxx@h/hook?token=xxxxx": EOF; POST http://xxxxx:xxxxx@h/hook?token=xxxxx; http://xxxxx:xxxxx@h/hook?token=xxxxx`},
		{`http://h/hook?q="T0K"`, `Post "http://h/hook?q=\"T0K\"": EOF`, `Post "http://h/hook?q=xxxxx": EOF`},
		{"http://h/hook", `Post "http://h/hook": EOF`, `Post "http://h/hook": EOF`},
	} {
		if got := urlScrubber(c.url)(c.text); got != c.want {
			t.Errorf("scrub %q:\n got %s\nwant %s", c.url, got, c.want)
		}
	}
}

// TestURLSecretsStayHidden: a token in a destination URL, as a password,
// a user name, a query value or the whole query, is a secret: a failed
// attempt's history and the forwarder's log lines show it masked.
func TestURLSecretsStayHidden(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every attempt fails with the URL in its error
	for _, c := range []struct {
		name, url, shown string
		secrets          []string
	}{
		{"password and query value", "http://USERNAME7:PASSW0RD@" + addr + "/hook?token=QTOKEN123&v=2",
			"http://xxxxx:xxxxx@" + addr + "/hook?token=xxxxx&v=xxxxx", []string{"PASSW0RD", "QTOKEN123", "USERNAME7"}},
		{"user name", "http://TOPSECRETUSERTOKEN@" + addr + "/hook",
			"http://xxxxx@" + addr + "/hook", []string{"TOPSECRETUSERTOKEN"}},
		{"bare query", "http://" + addr + "/hook?TOPSECRETTOKEN",
			"http://" + addr + "/hook?xxxxx", []string{"TOPSECRETTOKEN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := logrus.New()
			log.SetOutput(&logs)
			log.SetLevel(logrus.DebugLevel)
			clk := newClock()
			db := openDB(t, t.TempDir(), clk)
			id := accept(t, db, "iv-1", `{"n":1}`, "app")
			dest := testDest("app", c.url)
			dest.MaxAttempts = 1
			cfg := Config{Destinations: []Destination{dest}, Poll: 10 * time.Millisecond, HTTPRetries: 1, HTTPRetryWaitMax: time.Millisecond, Now: clk.Now}
			_, stop := startWith(t, cfg, db, db, log)
			waitFor(t, "dead-lettered", func() bool { return state(t, db, id, "app").Status == inbox.DeliveryDead })
			stop()
			st := state(t, db, id, "app")
			out := logs.String()
			if !strings.Contains(st.LastError, c.shown) {
				t.Errorf("last error = %q, want it to show %s", st.LastError, c.shown)
			}
			if !strings.Contains(out, c.shown) {
				t.Errorf("log does not show %s:\n%s", c.shown, out)
			}
			for _, s := range c.secrets {
				if strings.Contains(st.LastError, s) || strings.Contains(out, s) {
					t.Errorf("%q shown: last error %q, log:\n%s", s, st.LastError, out)
				}
			}
		})
	}
}
