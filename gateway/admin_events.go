package gateway

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/inbox"
)

// EventDetail is the archive's full view of one event.
type EventDetail struct {
	*inbox.Event
	Sightings  inbox.Sightings       `json:"sightings"`
	Deliveries []inbox.DeliveryState `json:"deliveries"`
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
	return &EventDetail{Event: ev, Sightings: s, Deliveries: d}, nil
}

// handleEvent is GET /api/v1/events/{id}.
func (a *Admin) handleEvent(w http.ResponseWriter, r *http.Request) {
	d, err := a.detail(mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleRaw is GET /api/v1/events/{id}/raw: the exact bytes received,
// with their original Content-Type, as a download.
func (a *Admin) handleRaw(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	ev, err := a.archive.Event(id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := a.archive.Body(id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ct := ev.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.json"`, id))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
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
