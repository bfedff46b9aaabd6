package forward

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Porch headers on every forwarded request.
const (
	HeaderSource    = "X-Porch-Source"
	HeaderEvent     = "X-Porch-Event"
	HeaderInterview = "X-Porch-Interview-Id"
	HeaderAttempt   = "X-Porch-Attempt"
)

// Sign returns the webhook-signature value for id, ts and body:
// "v1," + base64(HMAC-SHA256(key, id + "." + unix(ts) + "." + body)).
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signHeaders sets the three Standard Webhooks headers on h.
func signHeaders(h http.Header, key []byte, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(key, id, ts, body))
}
