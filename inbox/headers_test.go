package inbox_test

import (
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox"
)

// FuzzBoundHeaders: whatever headers arrive, what BoundHeaders keeps is
// within its bounds, and headers named intact are kept exactly.
func FuzzBoundHeaders(f *testing.F) {
	f.Add("X-Forwarded-For", strings.Repeat("1.2.3.4,", 40), 240, "sig")
	f.Add("User-Agent", "koji", 1, "t=1,v1=abc")
	f.Fuzz(func(t *testing.T, name, value string, n int, sig string) {
		n = min(max(n, 0), 1000)
		vs := make([]string, n)
		for i := range vs {
			vs[i] = value
		}
		h := map[string][]string{name: vs, "X-Koji-Signature": {sig}}
		got := inbox.BoundHeaders(h, "x-koji-signature")
		if s := got["X-Koji-Signature"]; len(s) != 1 || s[0] != sig {
			t.Fatalf("intact header = %q, want %q", s, sig)
		}
		if name == "X-Koji-Signature" {
			return
		}
		kept, ok := got[name]
		if !ok {
			return // left out whole (a name longer than the room): nothing kept
		}
		size := len(name)
		for _, v := range kept {
			size += len(v)
		}
		if len(kept) > inbox.MaxHeaderValues+1 || size > inbox.MaxHeaderBytes+32 {
			t.Fatalf("kept %d values, %d bytes of %q", len(kept), size, name)
		}
	})
}
