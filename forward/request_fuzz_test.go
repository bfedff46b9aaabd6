package forward

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// FuzzBuildRequest builds forward requests from arbitrary event fields,
// archived headers and enrichment headers. Building never panics and
// either fails with errCannotBuild or yields a request that the real
// client sends and a real server receives, with the webhook id, a
// signature over the body, and every porch header built from event data
// either left out or carrying the exact value.
func FuzzBuildRequest(f *testing.F) {
	f.Add("01JDEV0000000000000000000A", "koji", "interview.completed", "iv-1", "application/json",
		"X-Koji-Signature", "t=1,v1=abc", "203.0.113.7", "X-Extra", "1", []byte(`{"a":1}`), false)
	f.Add("01JDEV0000000000000000000B", "koji", "interview.completed\r\nX-Injected: 1", "iv\n1", "text/plain\x00",
		"X-Forwarded-For", "6.6.6.6", "fe80::1%eth0", "Bad Name", "v\r\n", []byte("not json"), true)
	f.Add("01JDEV\n", "kö", " padded ", "\x7f", "", "Content-Length", "1", "", "Transfer-Encoding", "gzip", []byte(`[]`), false)
	f.Add("id", "koji", "t", "iv", "a/b", "X-Porch-Interview-Id", "forged", "not-an-ip", "X-Porch-Event", "forged", []byte(`{}`), true)
	f.Add("id", "koji", "t", "iv", "a/b", "user-agent", "Koji-Webhooks/1.0", "", "User-Agent", "enricher", []byte(`{}`), true)
	f.Add("id", "koji", "t", "iv", "a/b", "User-Agent", " \t", "", "", "", []byte(`{}`), true)

	var mu sync.Mutex
	var got http.Header
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, gotBody = r.Header.Clone(), b
		mu.Unlock()
	}))
	f.Cleanup(srv.Close)
	dest, key, client := testClient(f, srv.URL)

	f.Fuzz(func(t *testing.T, id, source, typ, interview, contentType, hk, hv, addr, pk, pv string, body []byte, raw bool) {
		ev := &inbox.Event{
			ID: id, Source: source, Provider: "koji", Type: typ, InterviewID: interview,
			ContentType: contentType, RemoteAddr: addr, Headers: map[string][]string{hk: {hv}},
			ReceivedAt: time.Unix(1700000000, 0),
		}
		prep := PrepareResult{Header: map[string][]string{pk: {pv}}}
		d := dest
		if raw {
			d.Format = FormatRaw
		}
		out, err := buildRequest(&d, ev, body, prep, 3)
		if err == nil {
			err = checkRequest(ev.ID, out.header)
		}
		if err != nil {
			if !errors.Is(err, errCannotBuild) {
				t.Fatalf("build error %v does not wrap errCannotBuild", err)
			}
			return
		}
		r := send(context.Background(), client, srv.URL, key, ev.ID, out, time.Now)
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("a request that passed the checks was not delivered: %d %v", r.status, r.err)
		}
		mu.Lock()
		h, b := got, gotBody
		mu.Unlock()
		checkReceived(t, ev, key, raw, h, b, out.body)
	})
}

// checkReceived checks what the fuzzed request's destination received.
func checkReceived(t *testing.T, ev *inbox.Event, key []byte, raw bool, h http.Header, body, sent []byte) {
	t.Helper()
	if string(body) != string(sent) {
		t.Fatalf("body changed in transit")
	}
	if h.Get(HeaderID) != ev.ID || h.Get(HeaderAttempt) != "3" {
		t.Errorf("webhook-id %q, attempt %q", h.Get(HeaderID), h.Get(HeaderAttempt))
	}
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil || h.Get(HeaderSignature) != Sign(key, ev.ID, time.Unix(ts, 0), body) {
		t.Errorf("signature does not verify")
	}
	for k, v := range map[string]string{HeaderSource: ev.Source, HeaderEvent: ev.Type, HeaderInterview: ev.InterviewID} {
		if vs := h.Values(k); vs != nil && !slices.Equal(vs, []string{v}) {
			t.Errorf("%s = %q, want left out or %q", k, vs, v)
		}
	}
	if ua, want := h.Values("User-Agent"), wantUserAgent(ev, raw); !slices.Equal(ua, want) {
		t.Errorf("User-Agent = %q, want %q", ua, want)
	}
	want := []string(nil)
	if a, err := netip.ParseAddr(ev.RemoteAddr); err == nil && raw {
		want = []string{a.WithZone("").String()}
	}
	for _, k := range []string{"X-Forwarded-For", "X-Real-Ip"} {
		if vs := h.Values(k); !slices.Equal(vs, want) {
			t.Errorf("%s = %q, want %q", k, vs, want)
		}
	}
}

// wantUserAgent is the User-Agent a forward of ev arrives with: porch's
// for an envelope or a delivery without one, otherwise the archived one
// when net/http sends it unchanged (a lone valid, non-empty value) and
// none at all when it does not. The receiver drops the spaces and tabs
// around a value, which HTTP does not count as part of it (the gateway's
// parser dropped them before archiving too).
func wantUserAgent(ev *inbox.Event, raw bool) []string {
	var vs []string
	for k, v := range ev.Headers {
		if http.CanonicalHeaderKey(k) == "User-Agent" {
			vs = append(vs, v...)
		}
	}
	switch {
	case !raw || len(vs) == 0:
		return []string{UserAgent}
	case len(vs) == 1 && vs[0] != "" && validHeaderValue(vs[0]):
		return []string{strings.Trim(vs[0], " \t")}
	}
	return nil
}
