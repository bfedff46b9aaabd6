package gateway

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
