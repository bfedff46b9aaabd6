package sender

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Provider names.
const (
	Koji   = "koji"
	Gather = "gather"
)

// provider is what a provider sends.
type provider struct {
	name   string
	header string   // its signature header
	events []string // the event types it documents
	sample func(event, interviewID string, now time.Time) []byte
	sign   func(body []byte, secret string, now time.Time) http.Header
}

// providers is the table of known providers, in a stable order.
var providers = []provider{
	{Koji, KojiHeader, kojiEvents, kojiSample, kojiSign},
	{Gather, GatherHeader, gatherEvents, gatherSample, gatherSign},
}

func lookup(name string) (provider, bool) {
	for _, p := range providers {
		if p.name == name {
			return p, true
		}
	}
	return provider{}, false
}

// Names lists the known providers.
func Names() []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.name
	}
	return names
}

// Known reports whether name is a known provider.
func Known(name string) bool {
	_, ok := lookup(name)
	return ok
}

// Events returns the event types the provider documents (a copy); nil for
// an unknown provider.
func Events(name string) []string {
	p, _ := lookup(name)
	return slices.Clone(p.events)
}

// SignatureHeader returns the canonical name of the provider's signature
// header; "" for an unknown provider.
func SignatureHeader(name string) string {
	p, _ := lookup(name)
	return p.header
}

// Sample returns a realistic body of event for interviewID, compact as
// JSON.stringify writes it, with its times at now; nil for an unknown
// provider.
func Sample(name, event, interviewID string, now time.Time) []byte {
	p, ok := lookup(name)
	if !ok {
		return nil
	}
	return p.sample(event, interviewID, now)
}

// Sign returns the headers the provider would send with body, signed with
// secret at now; nil for an unknown provider.
func Sign(name string, body []byte, secret string, now time.Time) http.Header {
	p, ok := lookup(name)
	if !ok {
		return nil
	}
	return p.sign(body, secret, now)
}

// MAC returns HMAC-SHA256(secret, parts...), the primitive both providers
// sign with.
func MAC(secret string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// stringify renders v as JSON.stringify would for the values samples
// hold (strings, numbers that print alike in Go and JavaScript, bools,
// null, objects and arrays): no HTML escaping, and U+2028 and U+2029
// written as themselves, which Go alone escapes.
func stringify(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Errorf("sample: %w", err))
	}
	return unescapeLineSeparators(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// unescapeLineSeparators turns the escapes \u2028 and \u2029 of b back
// into the characters, leaving an escaped backslash followed by "u2028"
// alone.
func unescapeLineSeparators(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if esc := b[i:min(i+6, len(b))]; string(esc) == `\u2028` || string(esc) == `\u2029` {
			out = append(out, string(rune(0x2028+int(esc[5]-'8')))...)
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1]) // any other escape, whole
		i++
	}
	return out
}
