package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/inbox"
)

// parseQuery reads the archive search filters from the URL query:
// source, event, interview_id (exact), interview_prefix (the start of an
// interview id, in any case), id (the start of an event id, in any case),
// status, since, until, limit, cursor.
func parseQuery(v url.Values) (inbox.Query, error) {
	q := inbox.Query{
		Source:          strings.TrimSpace(v.Get("source")),
		Type:            strings.TrimSpace(v.Get("event")),
		InterviewID:     strings.TrimSpace(v.Get("interview_id")),
		InterviewPrefix: strings.TrimSpace(v.Get("interview_prefix")),
		IDPrefix:        strings.ToUpper(strings.TrimSpace(v.Get("id"))),
		Status:          inbox.Status(strings.TrimSpace(v.Get("status"))),
		Cursor:          v.Get("cursor"),
	}
	if len(q.IDPrefix) > ulidLen || strings.Trim(q.IDPrefix, crockford) != "" {
		return q, fmt.Errorf("%w: id must be an event id or its start (up to %d letters and digits)", ErrInvalidQuery, ulidLen)
	}
	switch q.Status {
	case "", inbox.StatusAccepted, inbox.StatusQuarantined:
	default:
		return q, fmt.Errorf("%w: status must be accepted or quarantined", ErrInvalidQuery)
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
	if since, err = parseTime(v.Get("since")); err != nil {
		return since, until, 0, fmt.Errorf("%w: since: %v", ErrInvalidQuery, err)
	}
	if until, err = parseTime(v.Get("until")); err != nil {
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
			return t, fmt.Errorf("%w: %s: %q is not a date (use 2026-11-23)", ErrInvalidQuery, name, s)
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

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (use RFC 3339, e.g. 2026-11-23T09:00:00Z, or 2026-11-23)", s)
}

// describe is a query's filters as trail text.
func describe(v url.Values) string {
	out := url.Values{}
	for _, k := range []string{"id", "source", "event", "interview_id", "interview_prefix", "status", "from", "to", "since", "until", "cursor"} {
		if s := v.Get(k); s != "" {
			out.Set(k, s)
		}
	}
	return out.Encode()
}

// audit records on the access trail that the caller did action; it must
// succeed before the archive answers.
func (a *Admin) audit(r *http.Request, action string, ids []string, query string, count int) error {
	return a.archive.LogAccess(inbox.Access{
		Token: tokenOf(r), Role: roleOf(r).String(), Action: action, EventIDs: ids,
		Query: query, Count: count, RequestID: requestID(r), Remote: remoteIP(r),
	})
}

// auditFirst trails action (with the request's path and query) before h
// runs, for handlers that stream or act and cannot audit afterwards: a
// backup, a reload, a profile.
func (a *Admin) auditFirst(action string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.audit(r, action, nil, r.URL.RequestURI(), 0); err != nil {
			writeError(w, r, err)
			return
		}
		h(w, r)
	}
}

// handleList is GET /api/v1/events: a search, newest first.
func (a *Admin) handleList(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := a.archive.List(q)
	if err == nil {
		err = a.audit(r, "search", nil, describe(r.URL.Query()), len(page.Events))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// handleExport is GET /api/v1/export: every archived event that matches
// the search filters (as /api/v1/events takes them; limit and cursor are
// ignored), oldest first (chain order), one JSON record per line with the
// raw body in base64, streamed as it is read.
func (a *Admin) handleExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	a.export(w, r, q)
}

// pageExport is GET /ui/export: the export of the search page's filters,
// for the page's Export button. It is handleExport but for errors, which
// come as a page, and the role check, which a page makes.
func (a *Admin) pageExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	a.export(w, r, q)
}

// export trails the export of q, then streams it as an NDJSON download.
func (a *Admin) export(w http.ResponseWriter, r *http.Request, q inbox.Query) {
	if err := a.audit(r, "export", nil, describe(r.URL.Query()), 0); err != nil {
		writeError(w, r, err)
		return
	}
	setDownload(w, "application/x-ndjson", "porch-export.ndjson")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	err := a.archive.ExportMatching(r.Context(), q, func(rec inbox.Record) error {
		n++
		return enc.Encode(rec)
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The status is sent; a cut-off stream fails offline verification
		// only at its end, so log it for the operator.
		loggerFrom(r).WithError(err).WithField("records", n).Warn("export cut short")
		return
	}
	loggerFrom(r).WithField("records", n).Info("export done")
}

// handleVerify is GET /api/v1/archive/verify: the chain check. It answers
// 200 with ok=false and the first broken link when the chain is broken.
func (a *Admin) handleVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := a.archive.Verify(r.Context())
	if err == nil {
		err = a.audit(r, "verify", nil, "", rep.Checked)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// handleTrail is GET /api/v1/access?before=&limit= (admins): who read
// what, newest first.
func (a *Admin) handleTrail(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 100
	}
	list, err := a.archive.AccessTrail(before, limit)
	if err == nil {
		err = a.audit(r, "trail", nil, r.URL.RawQuery, len(list))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	var next string
	if len(list) == limit {
		next = strconv.FormatUint(list[len(list)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, map[string]any{"access": list, "next_before": next})
}
