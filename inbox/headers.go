package inbox

import (
	"fmt"
	"net/textproto"
	"slices"
)

// Bounds on the request headers stored with an event or a rejection. A
// client (or every proxy on its way) may send tens of kilobytes of
// headers; what is kept of them must stay small however many arrive.
const (
	// MaxHeaderValues is how many values of one header are kept.
	MaxHeaderValues = 8
	// MaxHeaderValueBytes is the longest header value kept whole; longer
	// ones are cut and end in "…".
	MaxHeaderValueBytes = 256
	// MaxHeaderBytes bounds all bounded headers of one entry together.
	MaxHeaderBytes = 4 << 10
	// MaxRejectionBytes bounds one stored entry of the rejection log.
	MaxRejectionBytes = 8 << 10
)

// BoundHeaders returns h cut down to the bounds above: for each header at
// most MaxHeaderValues values of at most MaxHeaderValueBytes, and at most
// MaxHeaderBytes in all, headers in name order (once that is spent the
// rest are left out). Values left out of a header are counted in its one
// last value, "…N more". Headers named in intact are kept
// as they are and not counted: they are evidence (a provider's signature)
// whose size the caller has already bounded. h is not modified.
func BoundHeaders(h map[string][]string, intact ...string) map[string][]string {
	out := make(map[string][]string, len(h))
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	room := MaxHeaderBytes
	for _, k := range names {
		if isIntact(k, intact) {
			out[k] = slices.Clone(h[k])
			continue
		}
		if room <= len(k) {
			continue // no room left: left out
		}
		vs, used := boundValues(h[k], room-len(k))
		room -= len(k) + used
		out[k] = vs
	}
	return out
}

func isIntact(k string, intact []string) bool {
	for _, name := range intact {
		if textproto.CanonicalMIMEHeaderKey(name) == textproto.CanonicalMIMEHeaderKey(k) {
			return true
		}
	}
	return false
}

// boundValues keeps what of vs fits the value bounds and room bytes, and
// reports the bytes it kept.
func boundValues(vs []string, room int) (kept []string, used int) {
	for i, v := range vs {
		if len(v) > MaxHeaderValueBytes {
			v = v[:MaxHeaderValueBytes] + "…"
		}
		if i == MaxHeaderValues || used+len(v) > room {
			more := fmt.Sprintf("…%d more", len(vs)-i)
			return append(kept, more), used + len(more)
		}
		kept = append(kept, v)
		used += len(v)
	}
	return kept, used
}
