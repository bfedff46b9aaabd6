package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/inbox"
)

// parseQuery reads the archive search filters from the URL query:
// source, event, interview_id (exact), interview_prefix (the start of an
// interview id, in any case), id (the start of an event id, in any case),
// status, duplicate_of (an event id: its kept copies), since, until,
// limit, cursor.
func parseQuery(v url.Values) (inbox.Query, error) {
	q := inbox.Query{
		Source:          strings.TrimSpace(v.Get("source")),
		Type:            strings.TrimSpace(v.Get("event")),
		InterviewID:     strings.TrimSpace(v.Get("interview_id")),
		InterviewPrefix: strings.TrimSpace(v.Get("interview_prefix")),
		IDPrefix:        strings.ToUpper(strings.TrimSpace(v.Get("id"))),
		Status:          inbox.Status(strings.TrimSpace(v.Get("status"))),
		DuplicateOf:     strings.ToUpper(strings.TrimSpace(v.Get("duplicate_of"))),
		Cursor:          strings.ToUpper(strings.TrimSpace(v.Get("cursor"))), // ids are read in any case
	}
	if len(q.IDPrefix) > ulidLen || strings.Trim(q.IDPrefix, crockford) != "" {
		return q, fmt.Errorf("%w: id must be an event id or its start (up to %d letters and digits)", ErrInvalidQuery, ulidLen)
	}
	if q.DuplicateOf != "" && (len(q.DuplicateOf) != ulidLen || strings.Trim(q.DuplicateOf, crockford) != "") {
		return q, fmt.Errorf("%w: duplicate_of must be an event id (%d letters and digits)", ErrInvalidQuery, ulidLen)
	}
	if q.Status != "" && !slices.Contains(inbox.Statuses, q.Status) {
		return q, fmt.Errorf("%w: status must be accepted, quarantined or duplicate", ErrInvalidQuery)
	}
	var err error
	if q.Since, q.Until, q.Limit, err = parseRange(v); err != nil {
		return q, err
	}
	if err := parseDays(v, &q); err != nil {
		return q, err
	}
	if q.Cursor != "" && inbox.IDTime(q.Cursor).IsZero() {
		return q, fmt.Errorf("%w: cursor is not an event id", ErrInvalidQuery)
	}
	return q, nil
}

// Event ids are ULIDs: ulidLen characters of Crockford's base32, written
// in upper case and read in any case.
const (
	ulidLen   = 26
	crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// eventIDVar is the {id} of the route in the form the archive stores,
// so that an event id typed or pasted in lower case finds the event.
func eventIDVar(r *http.Request) string {
	return strings.ToUpper(mux.Vars(r)["id"])
}

// parseRange reads since, until and limit (1..inbox.MaxListLimit; 0 when
// absent) from v, as every listing takes them.
func parseRange(v url.Values) (since, until time.Time, limit int, err error) {
	if since, err = ParseTime(v.Get("since")); err != nil {
		return since, until, 0, fmt.Errorf("%w: since: %v", ErrInvalidQuery, err)
	}
	if until, err = ParseTime(v.Get("until")); err != nil {
		return since, until, 0, fmt.Errorf("%w: until: %v", ErrInvalidQuery, err)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > inbox.MaxListLimit {
			return since, until, 0, fmt.Errorf("%w: limit must be 1..%d", ErrInvalidQuery, inbox.MaxListLimit)
		}
		limit = n
	}
	return since, until, limit, nil
}

// parseDays narrows q to the days from and to (both included, UTC,
// YYYY-MM-DD as a browser's date input sends them), on top of since and
// until.
func parseDays(v url.Values, q *inbox.Query) error {
	day := func(name string) (time.Time, error) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return t, fmt.Errorf("%w: %s: %q is not a date (use 2026-11-23)", ErrInvalidQuery, name, clip(s, 64))
		}
		if t.Before(time.Unix(0, 0)) {
			// Earlier than every event id; and the zero time would read
			// as "not given".
			t = time.Unix(0, 0).UTC()
		}
		return t, nil
	}
	from, err := day("from")
	if err != nil {
		return err
	}
	to, err := day("to")
	if err != nil {
		return err
	}
	if !from.IsZero() && from.After(q.Since) {
		q.Since = from
	}
	if !to.IsZero() {
		end := to.AddDate(0, 0, 1)
		if q.Until.IsZero() || end.Before(q.Until) {
			q.Until = end
		}
	}
	return nil
}

// timeLayouts are accepted for since and until; those without a zone are
// UTC. The short ones are what a browser's date and datetime-local inputs
// send.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// ParseTime reads a since or until value as the admin API takes it; the
// empty string is the zero time. The CLI checks its flags with it, so a
// typo fails before any request is made.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.IsZero() {
				// The zero time means "not given": 0001-01-01T00:00:00Z,
				// earlier than every event, reads as the Unix epoch,
				// which is too.
				t = time.Unix(0, 0).UTC()
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (use RFC 3339, e.g. 2026-11-23T09:00:00Z, or 2026-11-23)", clip(s, 64))
}

// describe is a query's filters as trail text.
func describe(v url.Values) string {
	return trailValues(v, "id", "source", "event", "interview_id", "interview_prefix", "status", "duplicate_of", "from", "to", "since", "until", "cursor").Encode()
}

// maxTrailValue bounds each filter value a trail entry records: with
// every filter at its bound, the entry stays under the trail's
// inbox.MaxTrailQueryBytes, so padding one filter cannot push the others
// out of the record.
const maxTrailValue = 96

// trailValues is the filters keys of v as the trail records them: each
// value as the search reads it (trimmed), cut to maxTrailValue bytes.
func trailValues(v url.Values, keys ...string) url.Values {
	out := url.Values{}
	for _, k := range keys {
		if s := strings.TrimSpace(v.Get(k)); s != "" {
			out.Set(k, clip(s, maxTrailValue))
		}
	}
	return out
}
