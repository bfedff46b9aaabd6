package inbox

import (
	"time"
	"unicode/utf8"
)

// Trail classes, as TrailClass names them.
const (
	// TrailSearch entries (searches, chain checks, rejection-log reads)
	// are bounded by the engine's TrailSearchSize option.
	TrailSearch = "search"
	// TrailSensitive entries (everything else: event views, raw reads,
	// downloads, exports, dead letters, replays, abandons, backups,
	// reloads) are bounded by the engine's TrailLogSize option.
	TrailSensitive = "sensitive"
)

// TrailClass is the class of an Access action. Actions not named here are
// sensitive, so a new kind of read is kept rather than pushed out.
func TrailClass(action string) string {
	switch action {
	case "search", "verify", "rejections":
		return TrailSearch
	}
	return TrailSensitive
}

// Access is one entry of the access trail: who read what from the
// archive. Token is a fingerprint, never the token.
type Access struct {
	Seq       uint64    `json:"seq"` // set by LogAccess
	At        time.Time `json:"at"`
	Token     string    `json:"token"` // fingerprint of the token used
	Role      string    `json:"role"`
	Action    string    `json:"action"` // view, raw, download, export, search, verify, replay, abandon, deadletters, rejections, trail, backup, reload, debug
	EventIDs  []string  `json:"event_ids,omitempty"`
	Query     string    `json:"query,omitempty"` // the filters of a search or export
	Count     int       `json:"count,omitempty"` // events returned, for searches and exports
	RequestID string    `json:"request_id,omitempty"`
	Remote    string    `json:"remote,omitempty"`
}

// The trail is bounded by entries, so an entry's texts are bounded in
// bytes: a caller's megabyte of query string or path must not make a
// megabyte of trail. MaxTrailQueryBytes bounds Query, maxTrailIDBytes
// each event id (the admin API records at most one per entry).
const (
	MaxTrailQueryBytes = 4096
	maxTrailIDBytes    = 128
)

// BoundAccess returns a as the trail stores it: Query and each event id
// cut to their bounds on a character boundary and marked with "…".
// Engines call it in LogAccess.
func BoundAccess(a Access) Access {
	a.Query = clipText(a.Query, MaxTrailQueryBytes)
	ids := a.EventIDs
	for i, id := range ids {
		if len(id) > maxTrailIDBytes {
			if &a.EventIDs[0] == &ids[0] {
				a.EventIDs = append([]string(nil), ids...) // the caller's slice is left as it is
			}
			a.EventIDs[i] = clipText(id, maxTrailIDBytes)
		}
	}
	return a
}

// clipText is s cut to at most n bytes on a character boundary, with "…"
// appended when it was cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for back := 0; back < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); back++ {
		n-- // at most into the character the cut falls in
	}
	return s[:n] + "…"
}
