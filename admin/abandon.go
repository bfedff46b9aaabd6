package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// Giving up on a removed destination:
//
//	POST /api/v1/deadletters/abandon    {"destination": "app", "reason": "..."}
//
// moves every pending delivery to a destination that is no longer in the
// config to the dead letters, so that it stops holding retention and can
// be replayed if a destination of that name comes back. A destination
// this node forwards to is refused: its deliveries are the forwarder's.

// ErrDestinationConfigured refuses to abandon a destination this node
// still forwards to; the error wrapping it names the destination.
var ErrDestinationConfigured = errors.New("its deliveries are the forwarder's; remove it from the config and reload first")

// abandonRoutes abandon a removed destination's pending deliveries.
type abandonRoutes struct {
	base
	store        Abandoner
	destinations func() []string // nil: every destination
	now          func() time.Time
}

// abandonBody is the JSON body of the abandon route.
type abandonBody struct {
	Destination string `json:"destination"`
	Reason      string `json:"reason"`
}

// readAbandonBody decodes and checks the body: both fields are required,
// and unknown fields are refused, as for a replay.
func readAbandonBody(r *http.Request) (abandonBody, error) {
	var b abandonBody
	if err := decodeBody(r, &b, "destination and reason"); err != nil {
		return b, err
	}
	return b.checked()
}

// checked is b with its fields trimmed, or why it cannot be done.
func (b abandonBody) checked() (abandonBody, error) {
	b.Destination = strings.TrimSpace(b.Destination)
	switch {
	case b.Destination == "":
		return b, fmt.Errorf("%w: destination is required: name the removed destination", ErrInvalidQuery)
	case len(b.Destination) > maxDestination:
		return b, fmt.Errorf("%w: destination is longer than %d bytes", ErrInvalidQuery, maxDestination)
	}
	var err error
	b.Reason, err = checkReason(b.Reason, "abandoned")
	return b, err
}

// handleAbandon is POST /api/v1/deadletters/abandon (admin).
func (h abandonRoutes) handleAbandon(w http.ResponseWriter, r *http.Request) {
	got, err := h.abandon(r, readAbandonBody)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"destination": got.destination, "dead_lettered": got.DeadLettered, "leased": got.Leased})
}

// pageAbandon is POST /ui/deadletters/abandon (admins, CSRF-checked by
// csrfGuard) with the form fields destination and reason: what the API
// does, then back to the dead letters page, which says what was done.
func (h abandonRoutes) pageAbandon(w http.ResponseWriter, r *http.Request) {
	got, err := h.abandon(r, func(r *http.Request) (abandonBody, error) {
		return abandonBody{Destination: r.PostFormValue("destination"), Reason: r.PostFormValue("reason")}.checked()
	})
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	v := url.Values{"destination": {got.destination}, "abandoned": {strconv.Itoa(got.DeadLettered)}, "leased": {strconv.Itoa(got.Leased)}}
	http.Redirect(w, r, "/ui/deadletters?"+v.Encode(), http.StatusSeeOther)
}

// abandoned is what an abandon of destination did.
type abandoned struct {
	inbox.Abandoned
	destination string
}

// abandon reads the request with read and gives up on the destination
// it names. The request is trailed before anything else is decided, as
// a replay is.
func (h abandonRoutes) abandon(r *http.Request, read func(*http.Request) (abandonBody, error)) (abandoned, error) {
	b, err := read(r)
	if err == nil {
		err = h.audit(r, "abandon", nil, url.Values{"destination": {b.Destination}, "reason": {b.Reason}}.Encode(), 0)
	}
	if err == nil && h.configured(b.Destination) {
		err = fmt.Errorf("destination %q is configured on this node: %w", b.Destination, ErrDestinationConfigured)
	}
	if err != nil {
		return abandoned{}, err
	}
	got, err := h.store.Abandon(b.Destination, inbox.AbandonRequest{By: tokenOf(r), Reason: b.Reason}, h.now())
	log := httpserve.LoggerFrom(r).WithField("destination", b.Destination).
		WithField("dead_lettered", got.DeadLettered).WithField("leased", got.Leased)
	if err != nil {
		log.Warn("abandon stopped part way; run it again") // what it did is durable
		return abandoned{}, err
	}
	log.Info("removed destination abandoned")
	return abandoned{got, b.Destination}, nil
}

// configured reports whether this node forwards to dest (every
// destination when the list is unknown).
func (h abandonRoutes) configured(dest string) bool {
	return h.destinations == nil || slices.Contains(h.destinations(), dest)
}
