package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// GenesisHash is the PrevHash of the first event ever archived.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// chained is the part of an Event that its chain hash covers. Its JSON
// encoding is the hashed message, so field names and order are part of
// the archive format: never reorder or rename them.
type chained struct {
	V            int                 `json:"v"`
	ID           string              `json:"id"`
	Seq          uint64              `json:"seq"`
	Source       string              `json:"source"`
	Provider     string              `json:"provider"`
	Type         string              `json:"type"`
	InterviewID  string              `json:"interview_id"`
	Status       Status              `json:"status"`
	Origin       Origin              `json:"origin"`
	ReceivedAt   string              `json:"received_at"`
	RemoteAddr   string              `json:"remote_addr"`
	Headers      map[string][]string `json:"headers"`
	ContentType  string              `json:"content_type"`
	BodySHA256   string              `json:"body_sha256"`
	BodySize     int                 `json:"body_size"`
	Verification Verification        `json:"verification"`
	// DuplicateOf links a kept duplicate to its event; absent (and so
	// every hash made before it existed the same) on any other event.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	PrevHash    string `json:"prev_hash"`
}

// ChainHash returns the hash that links e into the archive chain:
// SHA-256 over its content (metadata and the raw body's hash) and
// e.PrevHash, lowercase hex. It depends on nothing but e, so an export can
// be checked offline. The message is encoding/json's encoding of chained
// (map keys sorted, so Headers hash the same whatever order they were
// stored in), written by appendChained.
func ChainHash(e *Event) string {
	var buf [1024]byte
	sum := sha256.Sum256(appendChained(buf[:0], e))
	return hex.EncodeToString(sum[:])
}

// chainedOf is e's chained part, the struct whose json.Marshal encoding
// appendChained writes.
func chainedOf(e *Event) chained {
	return chained{
		V:            1,
		ID:           e.ID,
		Seq:          e.Seq,
		Source:       e.Source,
		Provider:     e.Provider,
		Type:         e.Type,
		InterviewID:  e.InterviewID,
		Status:       e.Status,
		Origin:       e.Origin,
		ReceivedAt:   e.ReceivedAt.UTC().Format(time.RFC3339Nano),
		RemoteAddr:   e.RemoteAddr,
		Headers:      e.Headers,
		ContentType:  e.ContentType,
		BodySHA256:   e.BodySHA256,
		BodySize:     e.BodySize,
		Verification: e.Verification,
		DuplicateOf:  e.DuplicateOf,
		PrevHash:     e.PrevHash,
	}
}

// appendChained appends json.Marshal(chainedOf(e)) to b without
// reflection: every event is hashed once when archived and again by each
// verify, and encoding/json's reflection and map sorting were 4-5 %
// of the gateway's CPU per delivery. FuzzAppendChained holds it to
// encoding/json's bytes.
func appendChained(b []byte, e *Event) []byte {
	b = append(b, `{"v":1,"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, e.Source)
	b = append(b, `,"provider":`...)
	b = appendJSONString(b, e.Provider)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"interview_id":`...)
	b = appendJSONString(b, e.InterviewID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(e.Status))
	b = append(b, `,"origin":`...)
	b = appendJSONString(b, string(e.Origin))
	b = append(b, `,"received_at":"`...)
	b = e.ReceivedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","remote_addr":`...)
	b = appendJSONString(b, e.RemoteAddr)
	b = append(b, `,"headers":`...)
	b = appendHeaders(b, e.Headers)
	b = append(b, `,"content_type":`...)
	b = appendJSONString(b, e.ContentType)
	b = append(b, `,"body_sha256":`...)
	b = appendJSONString(b, e.BodySHA256)
	b = append(b, `,"body_size":`...)
	b = strconv.AppendInt(b, int64(e.BodySize), 10)
	v := &e.Verification
	b = append(b, `,"verification":{"mode":`...)
	b = appendJSONString(b, v.Mode)
	b = append(b, `,"secret_index":`...)
	b = strconv.AppendInt(b, int64(v.SecretIndex), 10)
	if v.Timestamp != "" {
		b = append(b, `,"timestamp":`...)
		b = appendJSONString(b, v.Timestamp)
	}
	if v.TimestampUnit != "" {
		b = append(b, `,"timestamp_unit":`...)
		b = appendJSONString(b, v.TimestampUnit)
	}
	if v.SkewMillis != 0 {
		b = append(b, `,"skew_ms":`...)
		b = strconv.AppendInt(b, v.SkewMillis, 10)
	}
	b = append(b, '}')
	if e.DuplicateOf != "" {
		b = append(b, `,"duplicate_of":`...)
		b = appendJSONString(b, e.DuplicateOf)
	}
	b = append(b, `,"prev_hash":`...)
	b = appendJSONString(b, e.PrevHash)
	return append(b, '}')
}

// appendHeaders appends h as encoding/json writes a map[string][]string.
func appendHeaders(b []byte, h map[string][]string) []byte {
	if h == nil {
		return append(b, "null"...)
	}
	var names [16]string
	keys := names[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		vs := h[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendJSONString appends s quoted as encoding/json quotes it. Printable
// ASCII that encoding/json leaves alone is copied; any other string is
// left to encoding/json, whose escaping (HTML characters, U+2028,
// invalid UTF-8) is then the same by construction.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				panic("inbox: chain hash: " + err.Error()) // a string always encodes
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
