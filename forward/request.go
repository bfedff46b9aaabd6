package forward

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/porchgw/porch/inbox"
)

// errBadPayload marks an event whose stored body cannot be wrapped in an
// envelope; retrying cannot help.
var errBadPayload = errors.New("payload is not JSON")

// ReceivedAtLayout is the envelope's received_at format: RFC 3339 with
// milliseconds, UTC.
const ReceivedAtLayout = "2006-01-02T15:04:05.000Z07:00"

// UserAgent is the User-Agent of porch's own requests: every envelope
// forward, and a raw forward of a delivery that arrived without one.
const UserAgent = "porch"

// skipRawHeaders are stored request headers that a raw forward does not
// copy, besides hopHeaders: credentials, encoding, the ones porch sets
// itself (User-Agent is set apart, by setUserAgent), and the
// client-address headers, which the client may have written itself
// (porch sends the address it resolved instead).
var skipRawHeaders = map[string]bool{
	"Proxy-Authorization": true, "Authorization": true, "Cookie": true, "Accept-Encoding": true,
	"Content-Type": true, "User-Agent": true,
	http.CanonicalHeaderKey(HeaderID): true, http.CanonicalHeaderKey(HeaderTimestamp): true,
	http.CanonicalHeaderKey(HeaderSignature): true, HeaderSource: true, HeaderEvent: true,
	HeaderInterview: true, HeaderAttempt: true,
	"X-Forwarded-For": true, "X-Real-Ip": true, "Forwarded": true,
	"X-Forwarded-Host": true, "X-Forwarded-Proto": true,
}

// EnvelopeBody builds the envelope for ev around its raw body. The
// payload is embedded byte for byte (not re-encoded); interview is added
// only when non-empty.
func EnvelopeBody(ev *inbox.Event, body, interview []byte) ([]byte, error) {
	if !json.Valid(body) {
		return nil, errBadPayload
	}
	head := struct {
		ID          string `json:"id"`
		Source      string `json:"source"`
		Provider    string `json:"provider"`
		Type        string `json:"type"`
		InterviewID string `json:"interview_id,omitempty"`
		ReceivedAt  string `json:"received_at"`
	}{ev.ID, ev.Source, ev.Provider, ev.Type, ev.InterviewID, ev.ReceivedAt.UTC().Format(ReceivedAtLayout)}
	b, err := json.Marshal(head)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + len(body) + len(interview) + 32)
	buf.Write(b[:len(b)-1])
	buf.WriteString(`,"payload":`)
	buf.Write(bytes.TrimSpace(body))
	if len(bytes.TrimSpace(interview)) > 0 {
		if !json.Valid(interview) {
			return nil, errors.New("envelope: interview is not JSON")
		}
		buf.WriteString(`,"interview":`)
		buf.Write(bytes.TrimSpace(interview))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// outbound is one attempt's request before signing.
type outbound struct {
	body   []byte
	header http.Header
	// omitted names the headers left out because their values could not
	// be sent as they are.
	omitted []string
}

// buildRequest returns the body and unsigned headers for ev to dest.
// Headers whose values come from event or enrichment data are left out
// when they would not arrive unchanged; an error wraps errCannotBuild.
func buildRequest(dest *Destination, ev *inbox.Event, body []byte, prep PrepareResult, attempt int) (*outbound, error) {
	out := &outbound{header: http.Header{}}
	if dest.Format == FormatRaw {
		out.body = body
		out.copyHeaders(ev.Headers, skipRawHeaders)
		out.set("Content-Type", ev.ContentType, validHeaderValue)
	} else {
		b, err := EnvelopeBody(ev, body, prep.Interview)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCannotBuild, err)
		}
		out.body = b
		out.header.Set("Content-Type", "application/json")
	}
	out.copyHeaders(prep.Header, nil)
	if dest.Format == FormatRaw {
		out.setClientAddr(ev.RemoteAddr)
	}
	out.setUserAgent(dest.Format == FormatRaw, ev.Headers)
	out.set(HeaderSource, ev.Source, dataHeaderValue)
	out.set(HeaderEvent, ev.Type, dataHeaderValue)
	out.set(HeaderInterview, ev.InterviewID, dataHeaderValue)
	out.header.Set(HeaderAttempt, strconv.Itoa(attempt))
	return out, nil
}

// copyHeaders adds the headers of from that are neither hop-by-hop nor
// in skip, leaving out (and noting) any net/http would refuse to send.
func (o *outbound) copyHeaders(from map[string][]string, skip map[string]bool) {
	for k, vs := range from {
		ck := http.CanonicalHeaderKey(k)
		switch {
		case hopHeaders[ck] || skip[ck]:
		case !validHeader(ck, vs):
			o.omitted = append(o.omitted, omittedName(ck))
		default:
			o.header[ck] = append([]string(nil), vs...)
		}
	}
}

// setUserAgent sends porch's User-Agent, except on a raw forward of a
// delivery that had one: that one is passed on as archived, or left out
// (and noted) when net/http cannot send it unchanged, as with several
// values. An empty value is how net/http is told to add none of its own.
func (o *outbound) setUserAgent(raw bool, archived map[string][]string) {
	const k = "User-Agent"
	var vs []string
	for ak, avs := range archived {
		if http.CanonicalHeaderKey(ak) == k {
			vs = append(vs, avs...)
		}
	}
	switch {
	case !raw || len(vs) == 0:
		o.header.Set(k, UserAgent)
	case len(vs) == 1 && validHeaderValue(vs[0]):
		o.header.Set(k, vs[0])
	default:
		o.header[k] = []string{""}
		o.omitted = append(o.omitted, k)
	}
}

// setClientAddr sends addr, the client address the gateway resolved
// through its trusted proxies, as X-Forwarded-For and X-Real-Ip; with no
// usable address it sends neither.
func (o *outbound) setClientAddr(addr string) {
	a, err := netip.ParseAddr(addr)
	if err == nil {
		addr = a.WithZone("").String()
	}
	ok := func(string) bool { return err == nil }
	o.set("X-Forwarded-For", addr, ok)
	o.set("X-Real-Ip", addr, ok)
}

// set makes v the only value of header k when ok(v) holds. Otherwise k is
// removed, so no copied header speaks for it, and is noted as left out
// unless v is empty.
func (o *outbound) set(k, v string, ok func(string) bool) {
	if v != "" && ok(v) {
		o.header.Set(k, v)
		return
	}
	o.header.Del(k)
	if v != "" {
		o.omitted = append(o.omitted, k)
	}
}
