package gateway

import (
	"net/http"
	"time"

	"github.com/porchgw/porch/inbox"
)

// Test hooks for the black-box tests: the header parsers are unexported.

// ParseKojiSignature exposes parseKojiSignature.
var ParseKojiSignature = parseKojiSignature

// ParseGatherSignature exposes parseGatherSignature as plain values.
func ParseGatherSignature(v string) (t string, v1 [][]byte, err error) {
	sig, err := parseGatherSignature(v)
	return sig.t, sig.v1, err
}

// BodyBytesInUse is the room request bodies hold in the in-flight budget.
func (s *Server) BodyBytesInUse() int64 { return s.bodies.inUse() }

// Read exposes read, the gateway's one call to verify and inspect a
// delivery, as plain values.
func Read(p Provider, h http.Header, body []byte, now time.Time) (inbox.Verification, Facts, error, error) {
	rd, err := read(p, h, body, now)
	return rd.proof, rd.facts, rd.factsErr, err
}
