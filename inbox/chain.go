package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	PrevHash     string              `json:"prev_hash"`
}

// ChainHash returns the hash that links e into the archive chain:
// SHA-256 over its content (metadata and the raw body's hash) and
// e.PrevHash, lowercase hex. It depends on nothing but e, so an export can
// be checked offline. encoding/json sorts map keys, so Headers hash the
// same whatever order they were stored in.
func ChainHash(e *Event) string {
	c := chained{
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
		PrevHash:     e.PrevHash,
	}
	b, err := json.Marshal(c)
	if err != nil {
		// Every field is a plain string, number or map of strings.
		panic("inbox: chain hash: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
