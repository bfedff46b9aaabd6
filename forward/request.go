package forward

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/porchgw/porch/inbox"
)

// errBadPayload marks an event whose stored body cannot be wrapped in an
// envelope; retrying cannot help.
var errBadPayload = errors.New("payload is not JSON")

// ReceivedAtLayout is the envelope's received_at format: RFC 3339 with
// milliseconds, UTC.
const ReceivedAtLayout = "2006-01-02T15:04:05.000Z07:00"

// skipRawHeaders are stored request headers that a raw forward does not
// pass on: hop-by-hop, framing, and the ones porch sets itself.
var skipRawHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Connection": true, "Transfer-Encoding": true,
	"Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true, "Proxy-Authorization": true,
	"Authorization": true, "Cookie": true, "Accept-Encoding": true, "Content-Type": true,
	http.CanonicalHeaderKey(HeaderID): true, http.CanonicalHeaderKey(HeaderTimestamp): true,
	http.CanonicalHeaderKey(HeaderSignature): true, HeaderSource: true, HeaderEvent: true,
	HeaderInterview: true, HeaderAttempt: true,
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
}

// buildRequest returns the body and unsigned headers for ev to dest.
func buildRequest(dest *Destination, ev *inbox.Event, body []byte, prep PrepareResult, attempt int) (*outbound, error) {
	h := http.Header{}
	out := &outbound{header: h}
	if dest.Format == FormatRaw {
		for k, vs := range ev.Headers {
			if !skipRawHeaders[http.CanonicalHeaderKey(k)] {
				h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
			}
		}
		out.body = body
		if ev.ContentType != "" {
			h.Set("Content-Type", ev.ContentType)
		}
	} else {
		b, err := EnvelopeBody(ev, body, prep.Interview)
		if err != nil {
			return nil, err
		}
		out.body = b
		h.Set("Content-Type", "application/json")
	}
	for k, v := range prep.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	h.Set("User-Agent", "porch")
	h.Set(HeaderSource, ev.Source)
	h.Set(HeaderEvent, ev.Type)
	if ev.InterviewID != "" {
		h.Set(HeaderInterview, ev.InterviewID)
	}
	h.Set(HeaderAttempt, strconv.Itoa(attempt))
	return out, nil
}

// sign stamps req's Standard Webhooks headers for now.
func sign(req *http.Request, key []byte, id string, body []byte, now time.Time) {
	signHeaders(req.Header, key, id, now, body)
}
