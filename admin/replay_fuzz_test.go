package admin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzReadReplayBody: any body is either a replay request with a usable
// reason or a 400 whose message does not echo the body.
func FuzzReadReplayBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"reason":"x"}`, `{"reason":" y ","destination":"app","limit":3}`,
		`{"reason":1}`, `{"reason":"x"}{"reason":"y"}`, `{"reason":"x","nope":1}`, `[`, `{"since":"2026-11-23","reason":"r"}`, `{"reason":"\u0000\t"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		b, err := readReplayBody(r)
		if err != nil {
			if answers.Status(err) != http.StatusBadRequest {
				t.Fatalf("%q: %v maps to %d", body, err, answers.Status(err))
			}
			if len(body) > 8 && strings.Contains(err.Error(), body) {
				t.Fatalf("error echoes the body: %v", err)
			}
			return
		}
		if !strings.ContainsFunc(b.Reason, unicode.IsGraphic) || b.Reason != strings.TrimSpace(b.Reason) || len(b.Reason) > maxReason {
			t.Fatalf("%q: accepted reason %q", body, b.Reason)
		}
		if !utf8.ValidString(b.Reason) && utf8.ValidString(body) {
			t.Fatalf("%q: reason %q is not UTF-8", body, b.Reason)
		}
		// The filters it carries are checked like a query string.
		v := url.Values{}
		for k, s := range map[string]string{"since": b.Since, "until": b.Until, "event": b.Event} {
			if s != "" {
				v.Set(k, s)
			}
		}
		if _, err := deadFilter(v); err != nil && answers.Status(err) != http.StatusBadRequest {
			t.Fatalf("%q: filter error %v maps to %d", body, err, answers.Status(err))
		}
	})
}
