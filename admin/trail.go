package admin

import (
	"net/http"
	"strconv"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// trailRoutes show the access trail (admins).
type trailRoutes struct {
	base
	reader TrailReader
}

// handleTrail is GET /api/v1/access?before=&limit= (admins): who read
// what, newest first.
func (h trailRoutes) handleTrail(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 100
	}
	list, err := h.reader.AccessTrail(before, limit)
	if err == nil {
		err = h.audit(r, "trail", nil, r.URL.RawQuery, len(list))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	var next string
	if len(list) == limit {
		next = strconv.FormatUint(list[len(list)-1].Seq, 10)
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"access": list, "next_before": next})
}

// pageAccess is GET /ui/access?before= (admins): the access trail.
func (h trailRoutes) pageAccess(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	list, err := h.reader.AccessTrail(before, 100)
	if err == nil {
		err = h.audit(r, "trail", nil, r.URL.RawQuery, len(list))
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	p := listPage[inbox.Access]{Items: list}
	if len(list) == 100 {
		p.Next = strconv.FormatUint(list[99].Seq, 10)
	}
	h.render(w, r, http.StatusOK, "access", "Access trail", p)
}
