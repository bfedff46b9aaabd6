package inbox

import (
	"fmt"
	"time"
)

// Functions every store engine applies to an event the same way, so that
// an event archived by one engine reads, hashes and deduplicates as it
// would in another.

// DefaultDedupWindow is how long an engine remembers a dedup key unless
// configured otherwise.
const DefaultDedupWindow = 168 * time.Hour

// Prepare puts a new event in the form the archive stores and hashes:
// source, type and interview id with invalid UTF-8 replaced as JSON
// stores it, and an event whose interview id or type is longer than any
// a provider sends quarantined (it then names no destinations). Engines
// call it before assigning the id and computing ChainHash.
func Prepare(ev *Event) {
	ev.Source, ev.Type, ev.InterviewID = asStored(ev.Source), asStored(ev.Type), asStored(ev.InterviewID)
	quarantineUnindexable(ev)
}

// BoundKey returns a dedup key as the archive records it: unchanged when
// 512 bytes or shorter, otherwise "%#" and its SHA-256 in hex.
func BoundKey(key string) string { return boundPart(key) }

// maxRecentSightings bounds the duplicate deliveries listed per event.
const maxRecentSightings = 20

// quarantineUnindexable quarantines an authentic event whose interview
// id or type is longer than any a provider sends (longer than
// MaxKeyPart): it is archived and indexed by hash, but not forwarded,
// since it would not fit a destination's request headers or routes. Like
// any quarantined event it names no destinations.
func quarantineUnindexable(ev *Event) {
	if ev.Status == StatusQuarantined || (len(ev.InterviewID) <= MaxKeyPart && len(ev.Type) <= MaxKeyPart) {
		return
	}
	ev.Status, ev.Destinations = StatusQuarantined, nil
	ev.QuarantineReason = fmt.Sprintf("interview id or event type longer than %d bytes", MaxKeyPart)
}
