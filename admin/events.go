package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// eventRoutes serve one event: its detail and its exact bytes, as JSON
// and as pages.
type eventRoutes struct {
	base
	events  EventReader
	history History
	search  Searcher // finds the event's kept copies
	// extras add named sections to the detail; see Config.DetailExtras.
	extras       map[string]func(id string) (any, error)
	destinations func() []string // nil: every destination
}

// EventDetail is the archive's full view of one event: its metadata with
// the verification evidence and chain fields, the duplicate sightings,
// the deliveries and their attempts, and whatever Config.DetailExtras
// add (enrichment) under their names.
type EventDetail struct {
	*inbox.Event
	Sightings  inbox.Sightings       `json:"sightings"`
	Deliveries []inbox.DeliveryState `json:"deliveries"`
	// Attempts is the delivery history: every attempt and replay, by
	// destination, in order.
	Attempts []inbox.Attempt `json:"attempts"`
	// KeptCopies are the newest of the duplicates of this event that
	// were archived for their bytes (which differed), at most
	// maxKeptCopies; GET /api/v1/events?duplicate_of= lists them all.
	KeptCopies []string `json:"kept_copies"`
	// Extras are the sections Config.DetailExtras add (enrichment).
	Extras map[string]any `json:"extras,omitempty"`
}

func (h eventRoutes) detail(id string) (*EventDetail, error) {
	ev, err := h.events.Event(id)
	if err != nil {
		return nil, err
	}
	s, err := h.history.Sightings(id)
	if err != nil {
		return nil, err
	}
	d, err := h.history.Deliveries(id)
	if err != nil {
		return nil, err
	}
	at, err := h.history.Attempts(id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = []inbox.DeliveryState{}
	}
	if at == nil {
		at = []inbox.Attempt{}
	}
	out := &EventDetail{Event: ev, Sightings: s, Deliveries: d, Attempts: at, KeptCopies: []string{}}
	if s.Count > 0 {
		// Only a duplicate can be kept as a copy: an event never seen
		// again costs no search.
		page, err := h.search.List(inbox.Query{DuplicateOf: id, Limit: maxKeptCopies})
		if err != nil {
			return nil, fmt.Errorf("event %s: kept copies: %w", id, err)
		}
		for _, c := range page.Events {
			out.KeptCopies = append(out.KeptCopies, c.ID)
		}
	}
	for name, fn := range h.extras {
		v, err := fn(id)
		if err != nil {
			return nil, fmt.Errorf("event %s: %s: %w", id, name, err)
		}
		if v != nil {
			if out.Extras == nil {
				out.Extras = map[string]any{}
			}
			out.Extras[name] = v
		}
	}
	return out, nil
}

// maxKeptCopies bounds the kept copies an event's detail names.
const maxKeptCopies = 20

// handleEvent is GET /api/v1/events/{id}.
func (h eventRoutes) handleEvent(w http.ResponseWriter, r *http.Request) {
	d, err := h.detail(eventIDVar(r))
	if err == nil {
		err = h.audit(r, "view", []string{d.ID}, "", 0)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, d)
}

// handleRaw is GET /api/v1/events/{id}/raw: the exact bytes received,
// with their original Content-Type but always as a download (?download=1
// only names the trail action): the body is the provider's, and a
// text/html body shown inline would run in the archive's origin.
func (h eventRoutes) handleRaw(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	ev, err := h.events.Event(id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := h.events.Body(id)
	action := "raw"
	if r.URL.Query().Get("download") != "" {
		action = "download"
	}
	if err == nil {
		err = h.audit(r, action, []string{id}, "", 0)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	mt, ext := rawType(ev.ContentType)
	if mt == "" {
		mt = "application/octet-stream"
	}
	setDownload(w, mt, ev.ID+ext)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// setDownload sets the headers of a response that carries stored bytes: a
// file to save, never a page to render or sniff. name must be safe in a
// quoted filename (porch's own ids and names).
func setDownload(w http.ResponseWriter, contentType, name string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
}

// rawType normalises a stored Content-Type for display ("" when it does
// not parse) and picks the download's file extension.
func rawType(ct string) (mediaType, ext string) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", ".bin"
	}
	ext = ".bin"
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		ext = ".json"
	}
	return mime.FormatMediaType(mt, params), ext
}

// eventPage is the data of the event page.
type eventPage struct {
	D         *EventDetail
	Headers   []headerLine
	Body      string // pretty-printed when it is JSON
	BodyJSON  bool
	Extras    []extraSection
	CanReplay bool
	Replayed  string // destinations queued by the replay just made
	// NotConfigured names the destinations that replay left out: no
	// longer in this node's config.
	NotConfigured string
	// Gone marks the deliveries' destinations this node no longer
	// forwards to: they stay pending until the destination comes back.
	Gone map[string]bool
}

type headerLine struct{ Name, Value string }

type extraSection struct{ Name, JSON string }

// pageEvent is GET /ui/events/{id}.
func (h eventRoutes) pageEvent(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	d, err := h.detail(id)
	var body []byte
	if err == nil {
		body, err = h.events.Body(id)
	}
	if err == nil {
		err = h.audit(r, "view", []string{id}, "", 0)
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	ep := eventPage{D: d, CanReplay: roleOf(r) >= RoleAdmin && d.Status != inbox.StatusQuarantined && len(d.Destinations) > 0,
		Replayed: r.URL.Query().Get("replayed"), NotConfigured: clip(r.URL.Query().Get("not_configured"), 8*maxDestination)}
	names := make([]string, len(d.Deliveries))
	for i, st := range d.Deliveries {
		names[i] = st.Destination
	}
	ep.Gone = gone(h.destinations, names)
	ep.Body, ep.BodyJSON = prettyBody(body)
	for name, vs := range d.Headers {
		for _, v := range vs {
			ep.Headers = append(ep.Headers, headerLine{name, v})
		}
	}
	sort.Slice(ep.Headers, func(i, j int) bool { return ep.Headers[i].Name < ep.Headers[j].Name })
	for name, v := range d.Extras {
		b, _ := json.MarshalIndent(v, "", "  ")
		ep.Extras = append(ep.Extras, extraSection{name, string(b)})
	}
	sort.Slice(ep.Extras, func(i, j int) bool { return ep.Extras[i].Name < ep.Extras[j].Name })
	h.render(w, r, http.StatusOK, "event", "Event "+id, ep)
}

// prettyBody indents a JSON body for reading; anything else is shown as
// text when it is UTF-8, and described otherwise.
func prettyBody(b []byte) (string, bool) {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") == nil {
		return buf.String(), true
	}
	if utf8.Valid(b) {
		return string(b), false
	}
	return fmt.Sprintf("(%d bytes of binary data: use Download raw)", len(b)), false
}

// rawPage is the data of the raw view.
type rawPage struct {
	ID, ContentType, Text, SHA256 string
	Size                          int
}

// pageRaw is GET /ui/events/{id}/raw: the exact bytes as text.
func (h eventRoutes) pageRaw(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	ev, err := h.events.Event(id)
	var body []byte
	if err == nil {
		body, err = h.events.Body(id)
	}
	if err == nil {
		err = h.audit(r, "raw", []string{id}, "", 0)
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	rp := rawPage{ID: id, ContentType: ev.ContentType, SHA256: ev.BodySHA256, Size: len(body), Text: string(body)}
	if !utf8.Valid(body) {
		rp.Text = fmt.Sprintf("(%d bytes of binary data: use Download raw)", len(body))
	}
	h.render(w, r, http.StatusOK, "raw", "Raw "+id, rp)
}
