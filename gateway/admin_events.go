package gateway

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/porchgw/porch/inbox"
)

// EventDetail is the archive's full view of one event: its metadata with
// the verification evidence and chain fields, the duplicate sightings,
// the deliveries and their attempts, and whatever AdminConfig.DetailExtras
// add (enrichment) under their names.
type EventDetail struct {
	*inbox.Event
	Sightings  inbox.Sightings       `json:"sightings"`
	Deliveries []inbox.DeliveryState `json:"deliveries"`
	// Attempts is the delivery history: every attempt and replay, by
	// destination, in order.
	Attempts []inbox.Attempt `json:"attempts"`
	// Extras are the sections AdminConfig.DetailExtras add (enrichment).
	Extras map[string]any `json:"extras,omitempty"`
}

func (a *Admin) detail(id string) (*EventDetail, error) {
	ev, err := a.archive.Event(id)
	if err != nil {
		return nil, err
	}
	s, err := a.archive.Sightings(id)
	if err != nil {
		return nil, err
	}
	d, err := a.archive.Deliveries(id)
	if err != nil {
		return nil, err
	}
	at, err := a.archive.Attempts(id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = []inbox.DeliveryState{}
	}
	if at == nil {
		at = []inbox.Attempt{}
	}
	out := &EventDetail{Event: ev, Sightings: s, Deliveries: d, Attempts: at}
	for name, fn := range a.cfg.DetailExtras {
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

// handleEvent is GET /api/v1/events/{id}.
func (a *Admin) handleEvent(w http.ResponseWriter, r *http.Request) {
	d, err := a.detail(eventIDVar(r))
	if err == nil {
		err = a.audit(r, "view", []string{d.ID}, "", 0)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleRaw is GET /api/v1/events/{id}/raw: the exact bytes received,
// with their original Content-Type but always as a download (?download=1
// only names the trail action): the body is the provider's, and a
// text/html body shown inline would run in the archive's origin.
func (a *Admin) handleRaw(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	ev, err := a.archive.Event(id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := a.archive.Body(id)
	action := "raw"
	if r.URL.Query().Get("download") != "" {
		action = "download"
	}
	if err == nil {
		err = a.audit(r, action, []string{id}, "", 0)
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

// handleRejections is GET /api/v1/rejections?before=&limit=: the bounded
// log of rejected and control requests, newest first.
func (a *Admin) handleRejections(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 100
	}
	list, err := a.archive.Rejections(before, limit)
	if err == nil {
		err = a.audit(r, "rejections", nil, r.URL.RawQuery, len(list))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if list == nil {
		list = []inbox.Rejection{}
	}
	var next string
	if len(list) == limit {
		next = strconv.FormatUint(list[len(list)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rejections": list, "next_before": next})
}
