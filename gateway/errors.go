package gateway

import "errors"

// Sentinel errors returned by Provider implementations. Callers branch on
// them with errors.Is; their messages are safe to show a client and never
// contain secrets or computed signatures.
var (
	// ErrMissingSignature means the provider's signature header is absent or empty.
	ErrMissingSignature = errors.New("missing signature")
	// ErrMalformedSignature means the signature header could not be parsed.
	ErrMalformedSignature = errors.New("malformed signature")
	// ErrBadSignature means no configured secret produced a matching signature.
	ErrBadSignature = errors.New("bad signature")
	// ErrStaleTimestamp means the signed timestamp is outside the tolerance,
	// in the past or in the future.
	ErrStaleTimestamp = errors.New("timestamp outside tolerance")
	// ErrUnparseable means the body is not a JSON object with a string event.
	ErrUnparseable = errors.New("unparseable body")
)
