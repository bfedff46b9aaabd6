package badger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// match reports whether e passes every filter of q (the index already
// applied one of them).
func match(q *inbox.Query, e *inbox.Event) bool {
	return (q.Source == "" || e.Source == q.Source) &&
		(q.Type == "" || e.Type == q.Type) &&
		(q.InterviewID == "" || e.InterviewID == q.InterviewID) &&
		(q.InterviewPrefix == "" || strings.HasPrefix(inbox.FoldCase(e.InterviewID), inbox.FoldCase(q.InterviewPrefix))) &&
		(q.Status == "" || e.Status == q.Status) &&
		(q.DuplicateOf == "" || e.DuplicateOf == q.DuplicateOf)
}

// asStored puts q's filters in the form the archive stores them in, and
// gives a search for the copies of an event the status they all have,
// so that the status index serves it.
func asStored(q *inbox.Query) {
	q.Source, q.Type, q.InterviewID, q.InterviewPrefix = inbox.AsStored(q.Source), inbox.AsStored(q.Type), inbox.AsStored(q.InterviewID), inbox.AsStored(q.InterviewPrefix)
	if q.DuplicateOf != "" && q.Status == "" {
		q.Status = inbox.StatusDuplicate
	}
}

// bounds is the id range [lo, hi) of q.
func bounds(q *inbox.Query) (lo, hi string, err error) {
	if !q.Since.IsZero() {
		lo = inbox.IDAt(q.Since)
	}
	if !q.Until.IsZero() {
		hi = inbox.IDAt(q.Until)
	}
	if p := strings.ToUpper(q.IDPrefix); p != "" {
		// Ids that begin with p are exactly those in [p, p+"\xff"):
		// ids are ASCII.
		lo, hi = max(lo, p), minID(hi, p+"\xff")
	}
	if q.DuplicateOf != "" {
		// A copy comes after the event it duplicates.
		lo = max(lo, q.DuplicateOf)
	}
	if q.Cursor != "" {
		if inbox.IDTime(q.Cursor).IsZero() {
			return "", "", fmt.Errorf("%w: %q", inbox.ErrBadCursor, q.Cursor)
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
func (db *DB) List(q inbox.Query) (inbox.Page, error) {
	page, _, err := db.list(q)
	return page, err
}

// list is List, also reporting how many index keys it read.
func (db *DB) list(q inbox.Query) (page inbox.Page, visited int, err error) {
	if q.Limit <= 0 {
		q.Limit = inbox.DefaultListLimit
	}
	q.Limit = min(q.Limit, inbox.MaxListLimit)
	asStored(&q)
	lo, hi, err := bounds(&q)
	if err != nil {
		return inbox.Page{}, 0, err
	}
	page = inbox.Page{Events: []inbox.Event{}}
	err = db.bdb.View(func(txn *badger.Txn) error {
		ids := plan(txn, &q, lo, hi)
		defer func() { visited = ids.visited(); ids.close() }()
		for {
			id, ok := ids.pop()
			if !ok {
				return nil
			}
			var e inbox.Event
			if _, err := getEvent(txn, id, &e, false); errors.Is(err, inbox.ErrNotFound) {
				continue // removed by retention between index and event
			} else if err != nil {
				return err
			}
			if !match(&q, &e) {
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
		return inbox.Page{}, visited, fmt.Errorf("list events: %w", err)
	}
	return page, visited, nil
}
