package inbox

import (
	"errors"
	"time"
)

// Search limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

// Query selects archived events. Empty fields match everything. Since is
// inclusive and Until exclusive; both compare the archive time carried by
// the event id (the moment porch accepted it).
type Query struct {
	Source      string
	Type        string
	InterviewID string
	// InterviewPrefix matches the interview ids that begin with it,
	// compared without regard to case.
	InterviewPrefix string
	// IDPrefix matches the event ids that begin with it, in any case
	// (event ids are ULIDs, which are case-insensitive).
	IDPrefix string
	Status   Status
	// DuplicateOf matches the kept copies of that event: duplicates of
	// it whose bytes differed from every delivery archived before, which
	// are archived with status duplicate.
	DuplicateOf string
	Since       time.Time
	Until       time.Time
	// Limit caps the page; 0 means DefaultListLimit, and it is capped at
	// MaxListLimit.
	Limit int
	// Cursor is a previous page's NextCursor: the page starts just older
	// than it.
	Cursor string
}

// Page is one page of a search, newest first.
type Page struct {
	Events []Event `json:"events"`
	// NextCursor continues the search; empty on the last page.
	NextCursor string `json:"next_cursor"`
}

// ErrBadCursor means a Query.Cursor is not an event id.
var ErrBadCursor = errors.New("bad cursor")
