package gateway

import (
	"net/netip"
	"testing"
)

// One IPv6 client normally holds a whole /64: the connection cap counts
// its addresses together, and IPv4 addresses one by one.
func TestClientKeyGroupsAnIPv6Slash64(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"192.0.2.1", "192.0.2.2", false},
		{"192.0.2.1", "192.0.2.1", true},
	} {
		ka, kb := clientKey(netip.MustParseAddr(c.a)), clientKey(netip.MustParseAddr(c.b))
		if (ka == kb) != c.same {
			t.Errorf("%s and %s: keys %s and %s, want same=%v", c.a, c.b, ka, kb, c.same)
		}
	}
}
