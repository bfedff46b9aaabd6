package inbox

import (
	"time"
)

// Trail classes, as TrailClass names them.
const (
	// TrailSearch entries (searches, chain checks, rejection-log reads)
	// are bounded by the engine's TrailSearchSize option.
	TrailSearch = "search"
	// TrailSensitive entries (everything else: event views, raw reads,
	// downloads, exports, dead letters, replays, backups, reloads) are
	// bounded by the engine's TrailLogSize option.
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
	Action    string    `json:"action"` // view, raw, download, export, search, verify, replay, deadletters, rejections, trail, backup, reload, debug
	EventIDs  []string  `json:"event_ids,omitempty"`
	Query     string    `json:"query,omitempty"` // the filters of a search or export
	Count     int       `json:"count,omitempty"` // events returned, for searches and exports
	RequestID string    `json:"request_id,omitempty"`
	Remote    string    `json:"remote,omitempty"`
}
