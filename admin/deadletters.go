package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// deadLetterRoutes list dead letters and replay them in bulk.
type deadLetterRoutes struct {
	base
	store        DeadLetterStore
	backlog      Abandoner       // the pending deliveries of removed destinations
	destinations func() []string // nil: every destination
}

// deadFilter reads the dead-letter filters from v.
func deadFilter(v url.Values) (inbox.DeadLetterFilter, error) {
	f := inbox.DeadLetterFilter{
		Destination: strings.TrimSpace(v.Get("destination")),
		Source:      strings.TrimSpace(v.Get("source")),
		Type:        strings.TrimSpace(v.Get("event")),
	}
	var err error
	if f.Since, f.Until, f.Limit, err = parseRange(v); err != nil {
		return f, err
	}
	if f.Type != "" {
		if _, err := path.Match(f.Type, ""); err != nil {
			return f, fmt.Errorf("%w: event: %q is not a valid glob", ErrInvalidQuery, f.Type)
		}
	}
	return f, nil
}

// handleDeadLetters is GET /api/v1/deadletters (auditor): the dead
// letters the filters select, oldest event first, up to limit (default
// 100).
func (h deadLetterRoutes) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	f, err := deadFilter(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	list, err := h.store.DeadLetters(f)
	if err == nil {
		err = h.audit(r, "deadletters", nil, describeDead(r.URL.Query()), len(list))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if list == nil {
		list = []inbox.DeadLetter{}
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"deadletters": list, "count": len(list)})
}

// handleReplayDead is POST /api/v1/deadletters/replay (admin): replays
// every dead letter the body's filters select. An empty filter replays
// them all, which is what an operator wants after fixing a destination.
// Dead letters of a destination this node does not forward to are left
// as they are and counted in not_configured.
func (h deadLetterRoutes) handleReplayDead(w http.ResponseWriter, r *http.Request) {
	b, err := readReplayBody(r)
	var f inbox.DeadLetterFilter
	if err == nil {
		f, err = deadFilter(b.filters())
	}
	if err == nil {
		err = h.audit(r, "replay", nil, replayTrail(b), 0)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	n, err := h.store.ReplayDead(f, inbox.ReplayRequest{By: tokenOf(r), Reason: b.Reason, Serves: serving(h.destinations)})
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpserve.LoggerFrom(r).WithField("queued", n.Queued).WithField("not_configured", n.NotConfigured).Info("bulk replay requested")
	httpserve.WriteJSON(w, http.StatusOK, n)
}

// describeDead is a dead-letter query's filters as trail text.
func describeDead(v url.Values) string {
	return trailValues(v, "destination", "source", "event", "since", "until", "limit").Encode()
}

type deadLettersPage struct {
	Rows      []inbox.DeadLetter
	CanReplay bool
	Gone      map[string]bool // destinations no longer configured: no replay button
	Stranded  []strandedRow   // pending deliveries of destinations no longer configured
	Abandoned *abandonNotice  // what an abandon from this page did
}

// strandedRow is the backlog of a destination this node no longer
// forwards to: it stays queued until the destination is back or an admin
// abandons it.
type strandedRow struct {
	Destination string
	Depth       int
	Oldest      time.Time
}

// abandonNotice is an abandon's outcome, carried to the page in the
// redirect's query.
type abandonNotice struct {
	Destination, DeadLettered, Leased string
}

// stranded lists the pending deliveries of destinations not in this
// node's config, by destination name.
func (h deadLetterRoutes) stranded() ([]strandedRow, error) {
	serves := serving(h.destinations)
	if serves == nil {
		return nil, nil // every destination counts as configured
	}
	st, err := h.backlog.OutboxStats()
	if err != nil {
		return nil, err
	}
	var rows []strandedRow
	for name, s := range st {
		if s.Depth > 0 && !serves(name) {
			rows = append(rows, strandedRow{Destination: name, Depth: s.Depth, Oldest: s.Oldest})
		}
	}
	slices.SortFunc(rows, func(a, b strandedRow) int { return strings.Compare(a.Destination, b.Destination) })
	return rows, nil
}

// pageDeadLetters is GET /ui/deadletters: up to 500 dead letters, oldest
// event first, with replay buttons for admins.
func (h deadLetterRoutes) pageDeadLetters(w http.ResponseWriter, r *http.Request) {
	rows, err := h.store.DeadLetters(inbox.DeadLetterFilter{Limit: 500})
	if err == nil {
		err = h.audit(r, "deadletters", nil, "limit=500", len(rows))
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	stranded, err := h.stranded()
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	names := make([]string, len(rows))
	for i, dl := range rows {
		names[i] = dl.Destination
	}
	page := deadLettersPage{Rows: rows, CanReplay: roleOf(r) >= RoleAdmin, Gone: gone(h.destinations, names), Stranded: stranded}
	if q := r.URL.Query(); q.Has("abandoned") {
		page.Abandoned = &abandonNotice{Destination: clip(q.Get("destination"), maxDestination),
			DeadLettered: clip(q.Get("abandoned"), 12), Leased: clip(q.Get("leased"), 12)}
	}
	h.render(w, r, http.StatusOK, "deadletters", "Dead letters", page)
}
