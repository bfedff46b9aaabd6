package forward

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/porchgw/porch/inbox"
)

// TestUserAgent: a raw forward carries the provider's User-Agent exactly
// as archived, and porch's own only when the delivery had none; an
// envelope forward always says porch. A User-Agent net/http cannot send
// unchanged is left out, without Go's default in its place.
func TestUserAgent(t *testing.T) {
	got := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("User-Agent")
	}))
	t.Cleanup(srv.Close)
	dest, key, client := testClient(t, srv.URL)

	koji := map[string][]string{"User-Agent": {"Koji-Webhooks/1.0 (+https://koji.so)"}}
	for _, c := range []struct {
		name    string
		format  string
		headers map[string][]string
		want    []string
		omitted bool
	}{
		{"envelope", FormatEnvelope, koji, []string{UserAgent}, false},
		{"raw", FormatRaw, koji, koji["User-Agent"], false},
		{"raw lower-case key", FormatRaw, map[string][]string{"user-agent": {"Gather/2"}}, []string{"Gather/2"}, false},
		{"raw without one", FormatRaw, map[string][]string{"X-Koji-Signature": {"t=1,v1=abc"}}, []string{UserAgent}, false},
		{"raw empty", FormatRaw, map[string][]string{"User-Agent": {""}}, nil, false},
		{"raw two values", FormatRaw, map[string][]string{"User-Agent": {"a", "b"}}, nil, true},
		{"raw control byte", FormatRaw, map[string][]string{"User-Agent": {"a\nb"}}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := &inbox.Event{ID: "01JDEV0000000000000000000A", Source: "koji", Provider: "koji",
				Type: "interview.completed", ContentType: "application/json", Headers: c.headers,
				ReceivedAt: time.Unix(1700000000, 0)}
			d := dest
			d.Format = c.format
			out, err := buildRequest(&d, ev, []byte(`{"a":1}`), PrepareResult{}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if omitted := slices.Contains(out.omitted, "User-Agent"); omitted != c.omitted {
				t.Errorf("User-Agent noted as left out: %v, want %v", omitted, c.omitted)
			}
			if r := send(context.Background(), client, srv.URL, key, ev.ID, out, time.Now); r.err != nil {
				t.Fatal(r.err)
			}
			if ua := <-got; !slices.Equal(ua, c.want) {
				t.Errorf("User-Agent = %q, want %q", ua, c.want)
			}
		})
	}
}

// testClient is the forwarding client of a default destination "app" at
// url, without retries, as the dispatcher builds it, with the destination
// and signing key it was built from.
func testClient(tb testing.TB, url string) (Destination, []byte, *retryablehttp.Client) {
	tb.Helper()
	cfg := Config{HTTPRetries: -1}
	cfg.setDefaults()
	dest := testDest("app", url)
	dest.setDefaults()
	key, err := decodeSecret(dest.Secret)
	if err != nil {
		tb.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	return dest, key, newClient(&cfg, &dest, key, func() bool { return false }, log)
}
