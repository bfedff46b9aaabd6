package forward

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"
)

// canary marks the secret parts of a fuzzed URL; inputs that contain it
// are skipped, so any canary in an output is a secret that got through.
const canary = "Zq7"

// FuzzRedactURL takes an arbitrary URL, puts canaries where url.Parse
// sees user information and query parts, and checks that no canary
// survives RedactURL, nor the texts net/http and retryablehttp write
// about a failed request to it: the errors once scrubbed, and the log
// lines written through leveledLogger. RedactURL keeps the scheme, host,
// path and fragment of a URL with an authority, and never panics on one
// that does not parse.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:9703/hook?TOPSECRETTOKEN", "http://TOPSECRETUSERTOKEN@host/hook",
		"https://u:pw@h/in?token=T0K&x=1&flag#frag", "http://h/hook?a=1&&=T&b=", "http://u%40x:p%20w@h/?q=%22",
		"http://h/p?next=http://u:pw@other/", "http://[::1]:80/a@b?c", "http://h:port/hook?x", "//u@h/p?q", "0//0@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_ = RedactURL(raw)
		u, err := url.Parse(raw)
		if err != nil || strings.Contains(raw, canary) {
			return
		}
		marked := withCanaries(u)
		m, err := url.Parse(marked)
		if err != nil {
			return
		}
		out := RedactURL(marked)
		checkHidden(t, "RedactURL", out, canary)
		// Without an authority the text is cut at its first "//" anyway, which
		// can take a path for one: more is hidden, never less.
		r, err := url.Parse(out)
		if err != nil || r.Scheme != m.Scheme || r.Fragment != m.Fragment ||
			(m.Host != "" || m.User != nil) && (r.Host != m.Host || r.Path != m.Path) {
			t.Errorf("RedactURL(%q) = %q: scheme, host, path or fragment changed (%v)", marked, out, err)
		}
		errs, logs := requestTexts(marked)
		for _, text := range errs {
			checkHidden(t, "scrubbed error", urlScrubber(marked)(text), canary)
		}
		checkHidden(t, "log", logs, canary)
	})
}

// checkHidden fails t if out contains secret.
func checkHidden(t *testing.T, what, out, secret string) {
	t.Helper()
	if strings.Contains(out, secret) {
		t.Fatalf("%s shows %q: %s", what, secret, out)
	}
}

// withCanaries is u with its user name, password, each query value and
// each bare query part replaced by a canary, keys and everything else
// kept.
func withCanaries(u *url.URL) string {
	m := *u
	if u.User != nil {
		m.User = url.User(canary + "u")
		if _, ok := u.User.Password(); ok {
			m.User = url.UserPassword(canary+"u", canary+"p")
		}
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=" + canary + fmt.Sprint(i)
		} else if p != "" {
			parts[i] = canary + fmt.Sprint(i)
		}
	}
	m.RawQuery = strings.Join(parts, "&")
	return m.String()
}

// failing is a transport whose every request fails with an error that
// quotes the whole URL, password included.
type failing struct{}

func (failing) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("refused %s", r.URL)
}

// requestTexts are the texts a failed request to raw produces: the
// errors net/http and retryablehttp return, unscrubbed, and
// retryablehttp's log lines as leveledLogger writes them.
func requestTexts(raw string) (errs []string, logs string) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetLevel(logrus.DebugLevel)
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: failing{}}
	c.Logger = leveledLogger{log, urlScrubber(raw)}
	c.RetryMax = 0
	req, err := retryablehttp.NewRequestWithContext(context.Background(), http.MethodPost, raw, []byte("{}"))
	if err != nil {
		return []string{err.Error()}, ""
	}
	_, rerr := c.Do(req)
	_, herr := c.HTTPClient.Do(req.Request)
	for _, err := range []error{rerr, herr} {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	return errs, buf.String()
}
