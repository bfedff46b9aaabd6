package inboxtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/porchgw/porch/inbox"
)

// delivery returns a realistic authentic delivery of interview n with
// the given dedup keys, queued for two destinations. Each call returns a
// fresh copy, since Accept fills in the event it is given.
func delivery(n int, keys ...string) *inbox.Event {
	body := fmt.Appendf(nil, `{"event":"interview.completed","interview_id":"iv-%d","raw":"\u0000\xff"}`, n)
	sum := sha256.Sum256(body)
	return &inbox.Event{
		Source:      "koji",
		Provider:    "koji",
		Type:        "interview.completed",
		InterviewID: fmt.Sprintf("iv-%d", n),
		Status:      inbox.StatusAccepted,
		Origin:      inbox.OriginProvider,
		ReceivedAt:  time.Now(),
		RemoteAddr:  "203.0.113.7:4431",
		RequestID:   fmt.Sprintf("req-%d", n),
		Headers:     map[string][]string{"Content-Type": {"application/json"}, "X-Koji-Signature": {"t=1,v1=ab"}},
		ContentType: "application/json",
		BodySHA256:  hex.EncodeToString(sum[:]),
		BodySize:    len(body),
		Verification: inbox.Verification{
			Mode: "raw", SecretIndex: 1, Timestamp: "1764000000", TimestampUnit: "s", SkewMillis: 12,
		},
		DedupKeys:    keys,
		Destinations: []string{"app", "audit"},
		Body:         body,
	}
}
