package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/porchgw/porch/inbox"
)

// The forwarding admin API: dead letters and replay.
//
//	POST /api/v1/events/{id}/replay     {"destination": "", "reason": "..."}
//	GET  /api/v1/deadletters            ?destination=&source=&event=&since=&until=&limit=
//	POST /api/v1/deadletters/replay     {"destination": "", "source": "", "event": "",
//	                                     "since": "", "until": "", "limit": 0, "reason": "..."}
//
// A replay keeps the event id (so the app's idempotency key holds) and is
// recorded in the event's delivery history with the caller's token
// fingerprint and the reason given, which is required.

// maxReplayBody bounds a replay request's JSON body.
const maxReplayBody = 16 << 10

// maxReason bounds the reason recorded with a replay.
const maxReason = 500

// replayBody is the JSON body of both replay routes; the bulk route reads
// the filter fields too.
type replayBody struct {
	Destination string `json:"destination"`
	Reason      string `json:"reason"`
	Source      string `json:"source"`
	Event       string `json:"event"`
	Since       string `json:"since"`
	Until       string `json:"until"`
	Limit       int    `json:"limit"`
}

// readReplayBody decodes the body (which may be empty) and checks the
// reason. Unknown fields are refused so a typo in a filter does not
// silently widen a bulk replay.
func readReplayBody(r *http.Request) (replayBody, error) {
	var b replayBody
	dec := json.NewDecoder(io.LimitReader(r.Body, maxReplayBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return b, fmt.Errorf("%w: body must be a JSON object with destination, reason and filter fields: %v", ErrInvalidQuery, jsonProblem(err))
	}
	if dec.More() {
		return b, fmt.Errorf("%w: body must hold one JSON object", ErrInvalidQuery)
	}
	b.Reason = strings.TrimSpace(b.Reason)
	switch {
	case b.Reason == "":
		return b, fmt.Errorf("%w: reason is required: say why this is replayed", ErrInvalidQuery)
	case len(b.Reason) > maxReason:
		return b, fmt.Errorf("%w: reason is longer than %d bytes", ErrInvalidQuery, maxReason)
	}
	return b, nil
}

// jsonProblem describes a decode error without echoing the body.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return "not a JSON object"
		}
		kind := "string"
		if te.Field == "limit" {
			kind = "number"
		}
		return fmt.Sprintf("%s must be a %s", te.Field, kind)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	}
	return "not JSON"
}

// handleReplay is POST /api/v1/events/{id}/replay (admin).
func (a *Admin) handleReplay(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	b, err := readReplayBody(r)
	if err == nil && (b.Source != "" || b.Event != "" || b.Since != "" || b.Until != "" || b.Limit != 0) {
		err = fmt.Errorf("%w: only destination and reason apply to one event", ErrInvalidQuery)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := a.archive.Event(id); err != nil {
		writeError(w, r, err)
		return
	}
	if err := a.audit(r, "replay", []string{id}, replayTrail(b), 0); err != nil {
		writeError(w, r, err)
		return
	}
	queued, err := a.archive.Replay(id, b.Destination, inbox.ReplayRequest{By: tokenOf(r), Reason: b.Reason})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if queued == nil {
		queued = []string{}
	}
	loggerFrom(r).WithField("event_id", id).WithField("queued", len(queued)).Info("replay requested")
	writeJSON(w, http.StatusOK, map[string]any{"event_id": id, "queued": queued})
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
func (a *Admin) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	f, err := deadFilter(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	list, err := a.archive.DeadLetters(f)
	if err == nil {
		err = a.audit(r, "deadletters", nil, describeDead(r.URL.Query()), len(list))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if list == nil {
		list = []inbox.DeadLetter{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deadletters": list, "count": len(list)})
}

// handleReplayDead is POST /api/v1/deadletters/replay (admin): replays
// every dead letter the body's filters select. An empty filter replays
// them all, which is what an operator wants after fixing a destination.
func (a *Admin) handleReplayDead(w http.ResponseWriter, r *http.Request) {
	b, err := readReplayBody(r)
	var f inbox.DeadLetterFilter
	if err == nil {
		f, err = deadFilter(b.filters())
	}
	if err == nil {
		err = a.audit(r, "replay", nil, replayTrail(b), 0)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	n, err := a.archive.ReplayDead(f, inbox.ReplayRequest{By: tokenOf(r), Reason: b.Reason})
	if err != nil {
		writeError(w, r, err)
		return
	}
	loggerFrom(r).WithField("queued", n).Info("bulk replay requested")
	writeJSON(w, http.StatusOK, map[string]any{"queued": n})
}

// filters are the body's dead-letter filters as the query parameters
// GET /api/v1/deadletters takes, so both routes read them alike.
func (b replayBody) filters() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"destination": b.Destination, "source": b.Source, "event": b.Event, "since": b.Since, "until": b.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if b.Limit != 0 {
		v.Set("limit", strconv.Itoa(b.Limit))
	}
	return v
}

// replayTrail is a replay's filters and reason as access-trail text.
func replayTrail(b replayBody) string {
	v := b.filters()
	if b.Reason != "" {
		v.Set("reason", b.Reason)
	}
	return v.Encode()
}

// describeDead is a dead-letter query's filters as trail text.
func describeDead(v url.Values) string {
	out := url.Values{}
	for _, k := range []string{"destination", "source", "event", "since", "until", "limit"} {
		if s := v.Get(k); s != "" {
			out.Set(k, s)
		}
	}
	return out.Encode()
}
