package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

// Verification modes recorded in inbox.Verification.Mode.
const (
	// ModeRaw means the signature matched the bytes received.
	ModeRaw = "raw"
	// ModeCanonical means the signature matched only the JSStringify
	// re-serialisation of the body (Gather with CanonicalFallback).
	ModeCanonical = "canonical"
)

// ProviderConfig configures one source's verifier.
type ProviderConfig struct {
	Secrets           []string      // at least one, none empty; any may match (rotation)
	Tolerance         time.Duration // gather: max |now - t|; 0 means DefaultTolerance
	MaxBodyAge        time.Duration // koji: oldest body timestamp accepted; 0 means DefaultMaxBodyAge
	CanonicalFallback bool          // gather: also try the JS re-serialisation when raw fails
}

// DefaultTolerance is the Gather timestamp tolerance used when
// ProviderConfig.Tolerance is zero.
const DefaultTolerance = 15 * time.Minute

// DefaultMaxBodyAge is the oldest Koji body timestamp accepted when
// ProviderConfig.MaxBodyAge is zero: well beyond Koji's last retry
// (about 2 h 36 m after the first attempt) and well inside the default
// dedup window (168 h).
const DefaultMaxBodyAge = 24 * time.Hour

// MaxFutureSkew is how far ahead of the receiver's clock a Koji body
// timestamp may be (clock drift between Koji and porch). A window for
// replays stays open for MaxBodyAge after the timestamp, so MaxBodyAge +
// MaxFutureSkew must not exceed the dedup window.
const MaxFutureSkew = 5 * time.Minute

// Validate reports whether the config can build a verifier: each problem
// a *FieldError naming the field as the config file does, joined.
func (c ProviderConfig) Validate() error {
	var errs []error
	bad := func(field string, err error) { errs = append(errs, &FieldError{Field: field, Err: err}) }
	if len(c.Secrets) == 0 {
		bad("secrets", errors.New("at least one secret is required"))
	}
	for i, s := range c.Secrets {
		if s == "" {
			bad(fmt.Sprintf("secrets[%d]", i), ErrEmpty)
		}
	}
	if c.Tolerance < 0 {
		bad("tolerance", errors.New("must not be negative"))
	}
	if c.MaxBodyAge < 0 {
		bad("max_body_age", errors.New("must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("provider config: %w", err)
	}
	return nil
}

// ErrEmpty is a required field left empty.
var ErrEmpty = errors.New("must not be empty")

// FieldError is one invalid field of a source's config, named as in the
// config file ("secrets[1]"). It never carries a secret.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Provider verifies one provider's deliveries and reads facts from signed
// content. Implementations are immutable and safe for concurrent use.
type Provider interface {
	// Verify checks the signature headers against the exact body. It
	// returns the evidence (mode "raw" or "canonical", SecretIndex,
	// Timestamp, TimestampUnit, SkewMillis) or an error wrapping one of
	// ErrMissingSignature, ErrMalformedSignature, ErrBadSignature or
	// ErrStaleTimestamp.
	Verify(h http.Header, body []byte, now time.Time) (inbox.Verification, error)
	// Inspect reads the event type, interview id and dedup keys from a
	// (verified) body, or returns an error wrapping ErrUnparseable.
	Inspect(body []byte) (Facts, error)
}

// reading is what the gateway takes from a delivery: the evidence that
// it is authentic and, read from the verified body, its facts or why it
// has none (factsErr wraps ErrUnparseable).
type reading struct {
	proof    inbox.Verification
	facts    Facts
	factsErr error
}

// oneParse is a Provider that verifies and inspects a delivery on one
// parse of its body (Koji, whose timestamp is in the body).
type oneParse interface {
	read(h http.Header, body []byte, now time.Time) (reading, error)
}

// read verifies body with p and, once verified, inspects it. The error
// is Verify's.
func read(p Provider, h http.Header, body []byte, now time.Time) (reading, error) {
	if op, ok := p.(oneParse); ok {
		return op.read(h, body, now)
	}
	proof, err := p.Verify(h, body, now)
	if err != nil {
		return reading{}, err
	}
	f, ferr := p.Inspect(body)
	return reading{proof: proof, facts: f, factsErr: ferr}, nil
}

// Facts are what a provider reads from a delivery's signed content.
type Facts struct {
	Event       string
	InterviewID string // "" when the event has none
	// DedupKeys are most specific first, without the source-name prefix
	// (the store adds it), e.g. "interview.analysis_ready:<id>:<fp>". The
	// last is always "body:<sha256 hex of raw body>".
	DedupKeys []string
}

// Definition is one provider in the registry.
type Definition struct {
	Name             string                                 // "koji" | "gather"
	New              func(ProviderConfig) (Provider, error) // validates config
	Deadline         time.Duration                          // the provider's ack deadline
	SignatureHeaders []string                               // canonical names of its signature headers
	Events           []string                               // documented event types
	// ControlWithoutSignature reports whether an unverified request is a
	// control request (Koji's endpoint check) that must get 200. It is nil
	// for providers without one.
	ControlWithoutSignature func(body []byte) bool

	inspect func(body []byte) (Facts, error) // Provider.Inspect, which needs no secrets
}

// registry is the table of supported providers, in a stable order.
var registry = []Definition{kojiDefinition(), gatherDefinition()}

// Lookup returns the provider definition called name. Its slices are
// copies, so callers may keep and modify them.
func Lookup(name string) (Definition, bool) {
	for _, d := range registry {
		if d.Name == name {
			d.SignatureHeaders = slices.Clone(d.SignatureHeaders)
			d.Events = slices.Clone(d.Events)
			return d, true
		}
	}
	return Definition{}, false
}

// Inspect reads from body what the named provider's deliveries get read
// (event, interview id, dedup keys), verifying nothing. Code that
// recreates a delivery, such as the Gather reconciler, uses it so that the
// recreated event claims exactly the dedup keys the real one would.
func Inspect(provider string, body []byte) (Facts, error) {
	d, ok := Lookup(provider)
	if !ok {
		return Facts{}, fmt.Errorf("inspect: unknown provider %q", provider)
	}
	return d.inspect(body)
}

// ProviderNames lists the registered provider names.
func ProviderNames() []string {
	names := make([]string, len(registry))
	for i, d := range registry {
		names[i] = d.Name
	}
	return names
}

// matchSecret returns the index of the first secret whose MAC over msg
// equals one of sigs, or -1.
func matchSecret(secrets []string, sigs [][]byte, msg ...[]byte) int {
	for i, s := range secrets {
		mac := sender.MAC(s, msg...)
		for _, sig := range sigs {
			if hmac.Equal(mac, sig) {
				return i
			}
		}
	}
	return -1
}

// envelope is the top level of a provider body with data's members.
type envelope struct {
	event string
	top   jsonFields
	data  jsonFields // nil when data is absent or not an object
}

// parseEnvelope reads a body that must be a JSON object with a non-empty
// string event: without one no app could tell what the event is, so the
// gateway quarantines it. It reads the body's two top levels once,
// without decoding any values it is not asked for.
func parseEnvelope(body []byte) (envelope, error) {
	var env envelope
	if !json.Valid(body) {
		return env, ErrUnparseable
	}
	env.top = objectFields(body)
	event, ok := jsonText(env.top.get("event"))
	if !ok || event == "" {
		return env, ErrUnparseable
	}
	env.event = event
	env.data = objectFields(env.top.get("data")) // absent or not an object: no data fields
	return env, nil
}

// field returns a string or number member of fs as text, "" otherwise.
// A number is written as JSON.stringify writes it (1.7966e9 and 1796600000
// both read "1796600000"; one JSON.stringify writes as null reads ""), so a
// delivery and its canonical re-serialisation build the same dedup keys.
func field(fs jsonFields, key string) string {
	raw := fs.get(key)
	if s, ok := jsonText(raw); ok {
		return s
	}
	if len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		if n := appendJSNumber(nil, raw); string(n) != "null" {
			return string(n)
		}
	}
	return ""
}

// dataFingerprint is the first 16 hex digits of SHA-256 of the JS-canonical
// form of data, so formatting differences do not change it.
func (e envelope) dataFingerprint() string {
	raw := e.top.get("data")
	if raw == nil {
		raw = []byte("null")
	}
	if canon, err := stringifyValid(raw); err == nil {
		raw = canon
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// bodyKey is the exact-duplicate dedup key every event ends with.
func bodyKey(body []byte) string {
	sum := sha256.Sum256(body)
	return inbox.BodyKey(hex.EncodeToString(sum[:]))
}

// joinKey builds a dedup key from the event name and its parts.
func joinKey(event string, parts ...string) string {
	k := event
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

// untimedKey keys an event that names no entity: its timestamp and a
// fingerprint of data. Without a timestamp it is the fingerprint alone.
func untimedKey(env envelope) string {
	if ts := field(env.top, "timestamp"); ts != "" {
		return joinKey(env.event, "at", ts, env.dataFingerprint())
	}
	return joinKey(env.event, env.dataFingerprint())
}
