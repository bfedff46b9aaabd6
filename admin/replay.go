package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/porchgw/porch/httpserve"
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

// replayRoutes replay one event, from the API or its page.
type replayRoutes struct {
	base
	events       EventReader // the API answers 404 for an unknown id
	replayer     Replayer
	destinations func() []string // nil: every destination
}

// serving is the destinations list, read once, as the predicate
// inbox.ReplayRequest.Serves takes: one request sees one set, however a
// reload races it, and the store's transaction calls no one else's lock.
func serving(destinations func() []string) func(string) bool {
	if destinations == nil {
		return nil
	}
	names := destinations()
	return func(name string) bool { return slices.Contains(names, name) }
}

// gone marks which of names destinations() does not list; nil when
// destinations is nil (every destination served).
func gone(destinations func() []string, names []string) map[string]bool {
	serves := serving(destinations)
	if serves == nil {
		return nil
	}
	out := map[string]bool{}
	for _, n := range names {
		if !serves(n) {
			out[n] = true
		}
	}
	return out
}

// unserved is which of the destinations a replay of ev to dest ("" for
// all) asks for that serves refuses.
func unserved(ev *inbox.Event, dest string, serves func(string) bool) []string {
	out := []string{}
	if serves == nil {
		return out
	}
	for _, d := range ev.Destinations {
		if (dest == "" || d == dest) && !serves(d) {
			out = append(out, d)
		}
	}
	return out
}

// maxReplayBody bounds a replay request's JSON body.
const maxReplayBody = 16 << 10

// maxReason bounds the reason recorded with a replay.
const maxReason = 500

// maxDestination bounds a replay's destination name, which a refusal
// quotes; configured names are far shorter.
const maxDestination = 128

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

// decodeBody decodes an action's JSON body, which may be empty, into v:
// one object of at most maxReplayBody bytes, with no fields v lacks
// (fields names them in the error).
func decodeBody(r *http.Request, v any, fields string) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxReplayBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: body must be a JSON object with %s: %v", ErrInvalidQuery, fields, jsonProblem(err))
	}
	if dec.More() {
		return fmt.Errorf("%w: body must hold one JSON object", ErrInvalidQuery)
	}
	return nil
}

// readReplayBody decodes the body (which may be empty) and checks the
// reason. Unknown fields are refused so a typo in a filter does not
// silently widen a bulk replay.
func readReplayBody(r *http.Request) (replayBody, error) {
	var b replayBody
	if err := decodeBody(r, &b, "destination, reason and filter fields"); err != nil {
		return b, err
	}
	var err error
	if b.Reason, err = checkReason(b.Reason, "replayed"); err != nil {
		return b, err
	}
	if len(b.Destination) > maxDestination {
		return b, fmt.Errorf("%w: destination is longer than %d bytes", ErrInvalidQuery, maxDestination)
	}
	return b, nil
}

// checkReason trims the reason an action is recorded with and refuses
// one that is missing or too long; what says what is done ("replayed").
func checkReason(reason, what string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case !strings.ContainsFunc(reason, unicode.IsGraphic): // empty, or only control and space characters
		return reason, fmt.Errorf("%w: reason is required: say why this is %s", ErrInvalidQuery, what)
	case len(reason) > maxReason:
		return reason, fmt.Errorf("%w: reason is longer than %d bytes", ErrInvalidQuery, maxReason)
	}
	return reason, nil
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
func (h replayRoutes) handleReplay(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	b, err := readReplayBody(r)
	if err == nil && (b.Source != "" || b.Event != "" || b.Since != "" || b.Until != "" || b.Limit != 0) {
		err = fmt.Errorf("%w: only destination and reason apply to one event", ErrInvalidQuery)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	ev, err := h.events.Event(id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := h.audit(r, "replay", []string{id}, replayTrail(b), 0); err != nil {
		writeError(w, r, err)
		return
	}
	serves := serving(h.destinations)
	queued, err := h.replayer.Replay(id, b.Destination, inbox.ReplayRequest{By: tokenOf(r), Reason: b.Reason, Serves: serves})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if queued == nil {
		queued = []string{}
	}
	httpserve.LoggerFrom(r).WithField("event_id", id).WithField("queued", len(queued)).Info("replay requested")
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"event_id": id, "queued": queued, "not_configured": unserved(ev, b.Destination, serves)})
}

// pageReplay is POST /ui/events/{id}/replay (admins, CSRF-checked by
// csrfGuard), with an optional form field destination: the same store
// call as the replay API, then back to the event page.
func (h replayRoutes) pageReplay(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	dest := r.PostFormValue("destination")
	var err error
	if len(dest) > maxDestination {
		err = fmt.Errorf("%w: destination is longer than %d bytes", ErrInvalidQuery, maxDestination)
	}
	var ev *inbox.Event
	if err == nil {
		ev, err = h.events.Event(id)
	}
	if err == nil {
		err = h.audit(r, "replay", []string{id}, dest, 0)
	}
	serves := serving(h.destinations)
	var queued []string
	if err == nil {
		queued, err = h.replayer.Replay(id, dest, inbox.ReplayRequest{By: tokenOf(r), Reason: "replayed from the archive pages", Serves: serves})
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	v := url.Values{"replayed": {strconv.Itoa(len(queued))}}
	if left := unserved(ev, dest, serves); len(left) > 0 {
		v.Set("not_configured", strings.Join(left, ", "))
	}
	http.Redirect(w, r, "/ui/events/"+id+"?"+v.Encode(), http.StatusSeeOther)
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
	v := trailValues(b.filters(), "destination", "source", "event", "since", "until", "limit")
	if b.Reason != "" {
		v.Set("reason", b.Reason) // at most maxReason bytes
	}
	return v.Encode()
}
