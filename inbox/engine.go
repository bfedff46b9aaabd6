package inbox

import "time"

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
