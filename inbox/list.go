package inbox

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
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
	Since    time.Time
	Until    time.Time
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

// match reports whether e passes every filter of q (the index already
// applied one of them).
func (q *Query) match(e *Event) bool {
	return (q.Source == "" || e.Source == q.Source) &&
		(q.Type == "" || e.Type == q.Type) &&
		(q.InterviewID == "" || e.InterviewID == q.InterviewID) &&
		(q.InterviewPrefix == "" || strings.HasPrefix(foldCase(e.InterviewID), foldCase(q.InterviewPrefix))) &&
		(q.Status == "" || e.Status == q.Status)
}

// bounds is the id range [lo, hi) of q.
func (q *Query) bounds() (lo, hi string, err error) {
	if !q.Since.IsZero() {
		lo = idAt(q.Since)
	}
	if !q.Until.IsZero() {
		hi = idAt(q.Until)
	}
	if p := strings.ToUpper(q.IDPrefix); p != "" {
		// Ids that begin with p are exactly those in [p, p+"\xff"):
		// ids are ASCII.
		lo, hi = max(lo, p), minID(hi, p+"\xff")
	}
	if q.Cursor != "" {
		if IDTime(q.Cursor).IsZero() {
			return "", "", fmt.Errorf("%w: %q", ErrBadCursor, q.Cursor)
		}
		if hi == "" || q.Cursor < hi {
			hi = q.Cursor
		}
	}
	return lo, hi, nil
}

// minID is the lower of two exclusive upper bounds, "" being none.
func minID(a, b string) string {
	if a == "" || (b != "" && b < a) {
		return b
	}
	return a
}

// List answers q newest first. It walks the most selective index (the
// interview, then the interviews that begin with an interview prefix,
// then source and type, then source, then status, else the archive
// itself) from the newest match down to the Since bound, so a search
// costs the size of its answer and of the index it walks, not of the
// archive. An event id prefix narrows the id range of whichever it walks.
func (db *DB) List(q Query) (Page, error) {
	page, _, err := db.list(q)
	return page, err
}

// list is List, also reporting how many index keys it read.
func (db *DB) list(q Query) (page Page, visited int, err error) {
	if q.Limit <= 0 {
		q.Limit = DefaultListLimit
	}
	q.Limit = min(q.Limit, MaxListLimit)
	q.Source, q.Type, q.InterviewID, q.InterviewPrefix = asStored(q.Source), asStored(q.Type), asStored(q.InterviewID), asStored(q.InterviewPrefix)
	lo, hi, err := q.bounds()
	if err != nil {
		return Page{}, 0, err
	}
	page = Page{Events: []Event{}}
	err = db.bdb.View(func(txn *badger.Txn) error {
		ids := plan(txn, &q, lo, hi)
		defer func() { visited = ids.visited(); ids.close() }()
		for {
			id, ok := ids.pop()
			if !ok {
				return nil
			}
			var e Event
			if err := getJSON(txn, eventKey(id), &e); errors.Is(err, ErrNotFound) {
				continue // removed by retention between index and event
			} else if err != nil {
				return err
			}
			if !q.match(&e) {
				continue
			}
			if len(page.Events) == q.Limit {
				page.NextCursor = page.Events[len(page.Events)-1].ID
				return nil
			}
			page.Events = append(page.Events, e)
		}
	})
	if err != nil {
		return Page{}, visited, fmt.Errorf("list events: %w", err)
	}
	return page, visited, nil
}
