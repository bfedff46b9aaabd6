package gateway

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

const gatherHeader = sender.GatherHeader

func gatherDefinition() Definition {
	return Definition{
		Name:             "gather",
		New:              newGather,
		Deadline:         5 * time.Second,
		SignatureHeaders: []string{gatherHeader},
		Events:           sender.Events(sender.Gather),
		inspect:          gather{}.Inspect,
	}
}

// gather verifies X-Qualifi-Signature: t=<ts>,v1=<hex HMAC of "t.body">.
type gather struct {
	secrets   []string
	tolerance time.Duration
	canonical bool
}

func newGather(cfg ProviderConfig) (Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	g := gather{secrets: append([]string(nil), cfg.Secrets...), tolerance: cfg.Tolerance, canonical: cfg.CanonicalFallback}
	if g.tolerance == 0 {
		g.tolerance = DefaultTolerance
	}
	return g, nil
}

// gatherSignature is a parsed X-Qualifi-Signature header.
type gatherSignature struct {
	t  string
	v1 [][]byte
}

// parseGatherSignature splits "t=<ts>,v1=<hex>[,v1=<hex>...]". Unknown keys
// are ignored; a missing t, no v1, or a v1 that is not 32 bytes of hex is
// malformed.
func parseGatherSignature(v string) (gatherSignature, error) {
	var sig gatherSignature
	seenT := false
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return sig, fmt.Errorf("parse gather signature: %w", ErrMalformedSignature)
		}
		switch key {
		case "t":
			if seenT || val == "" {
				return sig, fmt.Errorf("parse gather signature: %w", ErrMalformedSignature)
			}
			sig.t, seenT = val, true
		case "v1":
			b, err := hex.DecodeString(val)
			if err != nil || len(b) != 32 {
				return sig, fmt.Errorf("parse gather signature: %w", ErrMalformedSignature)
			}
			sig.v1 = append(sig.v1, b)
		}
	}
	if !seenT || len(sig.v1) == 0 {
		return sig, fmt.Errorf("parse gather signature: %w", ErrMalformedSignature)
	}
	return sig, nil
}

// Verify implements Provider. The checks that cost nothing per body byte
// run first: header present, header well formed, t readable and within
// the tolerance. Only then is the body MACed, raw first and then (if
// enabled) re-serialised, which costs tens of milliseconds per megabyte,
// so a request without a valid header or a current t never gets that far.
// Refusing a stale t before the MAC tells the sender nothing it did not
// choose itself.
func (g gather) Verify(h http.Header, body []byte, now time.Time) (inbox.Verification, error) {
	v, err := g.verify(h, body, now)
	if err != nil {
		return inbox.Verification{}, fmt.Errorf("verify gather: %w", err)
	}
	return v, nil
}

func (g gather) verify(h http.Header, body []byte, now time.Time) (inbox.Verification, error) {
	hv := h.Get(gatherHeader)
	if hv == "" {
		return inbox.Verification{}, ErrMissingSignature
	}
	sig, err := parseGatherSignature(hv)
	if err != nil {
		return inbox.Verification{}, err
	}
	fresh := inbox.Verification{Timestamp: sig.t}
	if err := g.checkFresh(&fresh, now); err != nil {
		return inbox.Verification{}, err
	}
	v, ok := g.match(sig, body)
	if !ok {
		return inbox.Verification{}, ErrBadSignature
	}
	v.Timestamp, v.TimestampUnit, v.SkewMillis = fresh.Timestamp, fresh.TimestampUnit, fresh.SkewMillis
	return v, nil
}

// match tries every v1 × secret over the raw body, then the canonical form.
func (g gather) match(sig gatherSignature, body []byte) (inbox.Verification, bool) {
	prefix := []byte(sig.t + ".")
	if i := matchSecret(g.secrets, sig.v1, prefix, body); i >= 0 {
		return inbox.Verification{Mode: ModeRaw, SecretIndex: i}, true
	}
	if !g.canonical {
		return inbox.Verification{}, false
	}
	canon, err := JSStringify(body)
	if err != nil {
		return inbox.Verification{}, false
	}
	if i := matchSecret(g.secrets, sig.v1, prefix, canon); i >= 0 {
		return inbox.Verification{Mode: ModeCanonical, SecretIndex: i}, true
	}
	return inbox.Verification{}, false
}

// checkFresh parses v.Timestamp, records unit and skew, and rejects it when
// it is further than the tolerance from now in either direction.
func (g gather) checkFresh(v *inbox.Verification, now time.Time) error {
	ts, unit, err := parseGatherTime(v.Timestamp)
	if err != nil {
		return err
	}
	skew := now.Sub(ts)
	v.TimestampUnit, v.SkewMillis = unit, skew.Milliseconds()
	if skew > g.tolerance || skew < -g.tolerance {
		return ErrStaleTimestamp
	}
	return nil
}

// parseGatherTime reads t as Unix seconds, Unix milliseconds (> 10^12) or
// RFC 3339.
func parseGatherTime(t string) (time.Time, string, error) {
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n > 1e12 || n < -1e12 {
			return time.UnixMilli(n), "ms", nil
		}
		return time.Unix(n, 0), "s", nil
	}
	if ts, err := time.Parse(time.RFC3339, t); err == nil {
		return ts, "rfc3339", nil
	}
	return time.Time{}, "", fmt.Errorf("parse gather timestamp: %w", ErrMalformedSignature)
}

// gatherKeyParts names, per event, the fields that identify one logical
// event. A field list "a|b" takes a, or b when a is empty;
// "@x" reads the top-level envelope instead of data.
var gatherKeyParts = map[string][]string{
	"candidate_interview.completed":      {"candidateInterviewId", "takenAt"},
	"candidate_interview.status_changed": {"candidateInterviewId", "status", "@timestamp"},
	"interview.created":                  {"interviewId"},
	"interview.updated":                  {"interviewId", "updatedAt|@timestamp"},
	"question.audio_generated":           {"questionId", "audioURL|@timestamp"},
}

// Inspect implements Provider. Unknown events, and known events missing a
// key field, are keyed by their timestamp and a fingerprint of data
// (untimedKey).
func (gather) Inspect(body []byte) (Facts, error) {
	env, err := parseEnvelope(body)
	if err != nil {
		return Facts{}, fmt.Errorf("inspect gather: %w", err)
	}
	key, ok := gatherKey(env)
	if !ok {
		key = untimedKey(env)
	}
	return Facts{Event: env.event, InterviewID: gatherInterview(env), DedupKeys: []string{key, bodyKey(body)}}, nil
}

// gatherInterview is the id an event is about: a candidate_interview.*
// event's candidateInterviewId, an interview.* or question.* event's
// interviewId (the interview template), and for other events the first
// of the two present.
func gatherInterview(env envelope) string {
	switch {
	case strings.HasPrefix(env.event, "candidate_interview."):
		return field(env.data, "candidateInterviewId")
	case strings.HasPrefix(env.event, "interview."), strings.HasPrefix(env.event, "question."):
		return field(env.data, "interviewId")
	}
	if id := field(env.data, "candidateInterviewId"); id != "" {
		return id
	}
	return field(env.data, "interviewId")
}

func gatherKey(env envelope) (string, bool) {
	spec, ok := gatherKeyParts[env.event]
	if !ok {
		return "", false
	}
	parts := make([]string, len(spec))
	for i, alts := range spec {
		for alt := range strings.SplitSeq(alts, "|") {
			if parts[i] == "" {
				parts[i] = envField(env, alt)
			}
		}
		if parts[i] == "" {
			return "", false
		}
	}
	return joinKey(env.event, parts...), true
}

// envField reads name from data, or "@name" from the top level.
func envField(env envelope, name string) string {
	if top, ok := strings.CutPrefix(name, "@"); ok {
		return field(env.top, top)
	}
	return field(env.data, name)
}
