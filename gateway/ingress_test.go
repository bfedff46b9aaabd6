package gateway_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

func TestClientAddr(t *testing.T) {
	trusted, err := gateway.ParsePrefixes([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
		wantErr    bool
	}{
		{"untrusted peer ignores xff", "203.0.113.9:4000", []string{"1.2.3.4"}, "203.0.113.9", false},
		{"trusted peer, one hop", "127.0.0.1:4000", []string{"198.51.100.7"}, "198.51.100.7", false},
		{"right-most untrusted wins", "127.0.0.1:4000", []string{"6.6.6.6, 198.51.100.7, 10.1.2.3"}, "198.51.100.7", false},
		{"spoofed left entries ignored", "127.0.0.1:4000", []string{"10.9.9.9", "198.51.100.7"}, "198.51.100.7", false},
		{"all trusted: left-most", "127.0.0.1:4000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1", false},
		{"trusted peer, no xff", "127.0.0.1:4000", nil, "127.0.0.1", false},
		{"ipv6 peer", "[2001:db8::1]:443", nil, "2001:db8::1", false},
		{"garbage hop", "127.0.0.1:4000", []string{"not-an-ip"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "/in/koji", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, err := gateway.ClientAddr(r, trusted)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got != netip.MustParseAddr(tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func FuzzClientAddr(f *testing.F) {
	f.Add("127.0.0.1:1", "1.2.3.4, 10.0.0.1")
	f.Add("127.0.0.1:1", ",,, ::1 ,")
	trusted, _ := gateway.ParsePrefixes([]string{"127.0.0.0/8", "10.0.0.0/8"})
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		a, err := gateway.ClientAddr(r, trusted)
		if err == nil && !a.IsValid() {
			t.Fatalf("no error but invalid address for %q / %q", peer, xff)
		}
	})
}

func TestParsePrefixes(t *testing.T) {
	got, err := gateway.ParsePrefixes([]string{"10.1.2.3/8", "192.0.2.1", "::ffff:192.0.2.2", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.1/32", "192.0.2.2/32", "2001:db8::/32"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("[%d] = %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.com"} {
		if _, err := gateway.ParsePrefixes([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestAllowlistThroughTrustedProxy: everything is 127.0.0.1 in tests, so
// the loopback peer is a trusted proxy and X-Forwarded-For names the
// client.
func TestAllowlistThroughTrustedProxy(t *testing.T) {
	src := kojiSource(kojiSecret)
	src.Ingress.AllowCIDRs = []string{"198.51.100.0/24"}
	srv, db := startGateway(t, gateway.Config{Sources: []gateway.Source{src}, TrustedProxies: []string{"127.0.0.1"}})
	base := "http://" + srv.Addr()

	body, h := signedKoji(t, "i-allowed", kojiSecret)
	h.Set("X-Forwarded-For", "198.51.100.20")
	if a := postDelivery(t, nil, base, "koji", body, h); a.Status != http.StatusOK {
		t.Fatalf("allowed client: %+v", a)
	}
	body, h = signedKoji(t, "i-outsider", kojiSecret)
	h.Set("X-Forwarded-For", "198.51.100.20, 203.0.113.5") // left part is the client's own claim
	a := postDelivery(t, nil, base, "koji", body, h)
	if a.Status != http.StatusForbidden || a.Error != gateway.ErrAddressNotAllowed.Error() {
		t.Fatalf("outsider: %+v, want 403", a)
	}
	rej := waitRejection(t, db, func(r inbox.Rejection) bool { return r.Status == http.StatusForbidden })
	if rej.Source != "koji" || !strings.Contains(rej.Reason, "203.0.113.5") || rej.RemoteAddr != "203.0.113.5" {
		t.Errorf("rejection = %+v", rej)
	}
}

func TestAllowlistWithoutTrustedProxyUsesPeer(t *testing.T) {
	src := kojiSource(kojiSecret)
	src.Ingress.AllowCIDRs = []string{"198.51.100.0/24"}
	srv, _ := startGateway(t, gateway.Config{Sources: []gateway.Source{src}})
	body, h := signedKoji(t, "i-1", kojiSecret)
	h.Set("X-Forwarded-For", "198.51.100.20") // not believed: the peer is no trusted proxy
	if a := postDelivery(t, nil, "http://"+srv.Addr(), "koji", body, h); a.Status != http.StatusForbidden {
		t.Fatalf("spoofed xff: %+v, want 403", a)
	}
}

func TestRateLimit429(t *testing.T) {
	src := kojiSource(kojiSecret)
	src.Ingress.RPS, src.Ingress.Burst = 0.01, 2 // one token per 100s: the third request must wait
	srv, db := startGateway(t, gateway.Config{Sources: []gateway.Source{src}})
	base := "http://" + srv.Addr()
	for i := range 2 {
		body, h := signedKoji(t, "i-"+string(rune('a'+i)), kojiSecret)
		if a := postDelivery(t, nil, base, "koji", body, h); a.Status != http.StatusOK {
			t.Fatalf("request %d: %+v", i, a)
		}
	}
	body, h := signedKoji(t, "i-c", kojiSecret)
	a := postDelivery(t, nil, base, "koji", body, h)
	if a.Status != http.StatusTooManyRequests || a.RetryAfter == "" || a.RetryAfter == "0" {
		t.Fatalf("third request: %+v, want 429 with Retry-After", a)
	}
	waitRejection(t, db, func(r inbox.Rejection) bool { return r.Status == http.StatusTooManyRequests })
}

// waitRejection waits until the rejection log (written in the
// background) holds an entry that matches, and returns it.
func waitRejection(t *testing.T, db *badger.DB, match func(inbox.Rejection) bool) inbox.Rejection {
	t.Helper()
	var found inbox.Rejection
	waitFor(t, "a matching rejection logged", func() bool {
		rs, err := db.Rejections(0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// TestSlowClientIsCutOff sends half a request line and then nothing: the
// read-header timeout must close the connection (the test waits for the
// close, with no assertion on how long it took).
func TestSlowClientIsCutOff(t *testing.T) {
	srv, _ := startGateway(t, gateway.Config{ReadHeaderTimeout: 100 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /in/koji HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a safety net, not the assertion
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server never closed the connection of a client that stalled mid-headers")
	}
}

// TestSlowBodyIsCutOff sends full headers and then a body that never
// arrives: the read timeout must end the request.
func TestSlowBodyIsCutOff(t *testing.T) {
	srv, _ := startGateway(t, gateway.Config{ReadTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /in/koji HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("stalled body got %d", resp.StatusCode)
		}
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server never gave up on a body that stalled")
	}
}

func TestHeaderSizeLimit(t *testing.T) {
	srv, _ := startGateway(t, gateway.Config{MaxHeaderBytes: 4 << 10})
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.Addr()+"/in/koji", strings.NewReader("{}"))
	req.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status = %d, want 431", resp.StatusCode)
	}
}
