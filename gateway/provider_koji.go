package gateway

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

const (
	kojiHeader = sender.KojiHeader
	kojiPrefix = sender.KojiPrefix
)

// kojiEvents are the event types Koji documents.
var kojiEvents = sender.Events(sender.Koji)

// kojiIDOnly are events keyed by interview id alone: they happen once.
var kojiIDOnly = map[string]bool{
	"interview.completed":           true,
	"interview.failed_quality_gate": true,
}

func kojiDefinition() Definition {
	return Definition{
		Name:                    "koji",
		New:                     newKoji,
		Deadline:                10 * time.Second,
		SignatureHeaders:        []string{kojiHeader},
		Events:                  kojiEvents,
		ControlWithoutSignature: kojiControl,
		inspect:                 koji{}.Inspect,
	}
}

// koji verifies X-Koji-Signature: sha256=<hex HMAC of the raw body>, and
// the age of the body's own timestamp.
type koji struct {
	secrets []string
	maxAge  time.Duration
}

func newKoji(cfg ProviderConfig) (Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("koji: %w", err)
	}
	k := koji{secrets: append([]string(nil), cfg.Secrets...), maxAge: cfg.MaxBodyAge}
	if k.maxAge == 0 {
		k.maxAge = DefaultMaxBodyAge
	}
	return k, nil
}

// Verify implements Provider. Koji signs no timestamp of its own, so once
// the MAC matches the body's top-level "timestamp" stands in for one: a
// delivery stamped more than maxAge ago, or more than MaxFutureSkew
// ahead, is refused with ErrStaleTimestamp. Since maxAge is shorter than
// the dedup window, a captured delivery is refused by age before its
// dedup key can expire. A body without a usable timestamp passes here and
// is quarantined by Inspect.
func (k koji) Verify(h http.Header, body []byte, now time.Time) (inbox.Verification, error) {
	v, err := k.verifyMAC(h, body)
	if err != nil {
		return v, err
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return v, nil // unparseable: Inspect quarantines it
	}
	v, _, err = k.checkAge(v, env, now)
	return v, err
}

// read implements oneParse: Verify and Inspect on one parse of body.
func (k koji) read(h http.Header, body []byte, now time.Time) (reading, error) {
	v, err := k.verifyMAC(h, body)
	if err != nil {
		return reading{}, err
	}
	env, perr := parseEnvelope(body)
	if perr != nil {
		return reading{proof: v, factsErr: fmt.Errorf("inspect koji: %w", perr)}, nil
	}
	v, timed, err := k.checkAge(v, env, now)
	if err != nil {
		return reading{}, err
	}
	f, ferr := inspectKoji(body, env, timed)
	return reading{proof: v, facts: f, factsErr: ferr}, nil
}

// verifyMAC checks the signature header against the raw body.
func (k koji) verifyMAC(h http.Header, body []byte) (inbox.Verification, error) {
	hv := h.Get(kojiHeader)
	if hv == "" {
		return inbox.Verification{}, fmt.Errorf("verify koji: %w", ErrMissingSignature)
	}
	sig, err := parseKojiSignature(hv)
	if err != nil {
		return inbox.Verification{}, fmt.Errorf("verify koji: %w", err)
	}
	i := matchSecret(k.secrets, [][]byte{sig}, body)
	if i < 0 {
		return inbox.Verification{}, fmt.Errorf("verify koji: %w", ErrBadSignature)
	}
	return inbox.Verification{Mode: ModeRaw, SecretIndex: i}, nil
}

// checkAge adds the body's timestamp to v, or refuses a stale one.
// timed reports whether the body has a usable timestamp at all.
func (k koji) checkAge(v inbox.Verification, env envelope, now time.Time) (_ inbox.Verification, timed bool, _ error) {
	text, ts, unit, ok := kojiBodyTime(env)
	if !ok {
		return v, false, nil // no usable timestamp: Inspect quarantines it
	}
	skew := now.Sub(ts)
	v.Timestamp, v.TimestampUnit, v.SkewMillis = text, unit, skew.Milliseconds()
	if skew > k.maxAge || skew < -MaxFutureSkew {
		return inbox.Verification{}, true, fmt.Errorf("verify koji: %w: body timestamp %s is %s from now (allowed: %s old to %s ahead)",
			ErrStaleTimestamp, ts.UTC().Format(time.RFC3339), skew.Round(time.Second), k.maxAge, MaxFutureSkew)
	}
	return v, true, nil
}

// kojiBodyTime reads the envelope's top-level "timestamp", the time Koji
// stamps on every event, as an RFC 3339 string or Unix
// seconds or milliseconds, written as a number or a string of digits. The
// times inside data (when an interview completed, say) describe the
// interview, not the delivery, and are never used. ok is false when the
// member is absent, null or unreadable; text is the value as written,
// unquoted.
func kojiBodyTime(env envelope) (text string, ts time.Time, unit string, ok bool) {
	raw := env.top.get("timestamp")
	if s, isStr := jsonText(raw); isStr {
		if s == "" {
			return "", time.Time{}, "", false
		}
		ts, unit, err := parseGatherTime(s)
		return s, ts, unit, err == nil
	}
	if len(raw) == 0 || !(raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		return "", time.Time{}, "", false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	// Beyond ±9e15 a float64 no longer holds whole milliseconds; such a
	// value is no timestamp Koji would send.
	if err != nil || math.Abs(f) > 9e15 {
		return "", time.Time{}, "", false
	}
	if math.Abs(f) > 1e12 {
		return string(raw), time.UnixMilli(int64(f)), "ms", true
	}
	return string(raw), time.UnixMilli(int64(f * 1000)), "s", true
}

// parseKojiSignature decodes "sha256=<64 hex digits>", hex in either case.
func parseKojiSignature(v string) ([]byte, error) {
	hexSig, ok := strings.CutPrefix(v, kojiPrefix)
	if !ok || len(hexSig) != 64 {
		return nil, fmt.Errorf("parse koji signature: %w", ErrMalformedSignature)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, fmt.Errorf("parse koji signature: %w", ErrMalformedSignature)
	}
	return sig, nil
}

// Inspect implements Provider with Koji's dedup keys, refined per event type. A
// body without a usable top-level timestamp cannot prove its age, and
// every delivery without one could be replayed once its dedup key has
// expired, so it is reported unparseable: the gateway then archives it
// quarantined, answered 200 and never forwarded, and an operator decides.
func (koji) Inspect(body []byte) (Facts, error) {
	env, err := parseEnvelope(body)
	if err != nil {
		return Facts{}, fmt.Errorf("inspect koji: %w", err)
	}
	_, _, _, timed := kojiBodyTime(env)
	return inspectKoji(body, env, timed)
}

// inspectKoji is Inspect on env, body's parsed envelope; timed says
// whether it has a usable top-level timestamp (kojiBodyTime).
func inspectKoji(body []byte, env envelope, timed bool) (Facts, error) {
	if !timed {
		return Facts{}, fmt.Errorf("inspect koji: %w: no usable top-level timestamp", ErrUnparseable)
	}
	f := Facts{Event: env.event, InterviewID: field(env.data, "interview_id")}
	f.DedupKeys = append(kojiKeys(env, f.InterviewID), bodyKey(body))
	return f, nil
}

// kojiKeys returns the logical-event keys: id alone for once-only events,
// otherwise id plus a fingerprint of data. An interview event's id is its
// interview id only (a study has many interviews); another event's is
// the report, study or other id in data, else the envelope's study id
// (study_id or project_id), so that two studies publishing alike data
// stay two events. An event with no id at all is keyed by its timestamp
// with the fingerprint: a resend is caught, a later event with the same
// data is not dropped as its duplicate.
func kojiKeys(env envelope, interviewID string) []string {
	if kojiIDOnly[env.event] && interviewID != "" {
		return []string{joinKey(env.event, interviewID)}
	}
	id := interviewID
	if !strings.HasPrefix(env.event, "interview.") {
		for _, k := range []string{"report_id", "study_id", "id"} {
			if id == "" {
				id = field(env.data, k)
			}
		}
		for _, k := range []string{"study_id", "project_id"} {
			if id == "" {
				id = field(env.top, k)
			}
		}
	}
	if id == "" {
		return []string{untimedKey(env)}
	}
	return []string{joinKey(env.event, id, env.dataFingerprint())}
}

// kojiControl reports whether an unsigned request looks like Koji's
// endpoint check rather than data: empty, not JSON, or no data.interview_id.
//
// Only a request carrying no interview data qualifies: a
// body that is empty or not JSON, or one with no data.interview_id whose
// event Koji does not document or whose data is empty. A documented event
// with real data and a bad signature (study.published after a botched
// secret rotation, say) gets 401, so Koji retries it instead of losing it.
func kojiControl(body []byte) bool {
	env, err := parseEnvelope(body)
	if err != nil {
		return true
	}
	if field(env.data, "interview_id") != "" {
		return false
	}
	return !slices.Contains(kojiEvents, env.event) || len(env.data) == 0
}
