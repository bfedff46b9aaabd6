package admin

import (
	"net/http"
	"strconv"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// rejectionRoutes show the log of refused requests.
type rejectionRoutes struct {
	base
	log RejectionReader
}

// handleRejections is GET /api/v1/rejections?before=&limit=: the bounded
// log of rejected and control requests, newest first.
func (h rejectionRoutes) handleRejections(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 100
	}
	list, err := h.log.Rejections(before, limit)
	if err == nil {
		err = h.audit(r, "rejections", nil, r.URL.RawQuery, len(list))
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
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"rejections": list, "next_before": next})
}

// pageRejections is GET /ui/rejections?before=.
func (h rejectionRoutes) pageRejections(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	list, err := h.log.Rejections(before, 100)
	if err == nil {
		err = h.audit(r, "rejections", nil, r.URL.RawQuery, len(list))
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	p := listPage[inbox.Rejection]{Items: list}
	if len(list) == 100 {
		p.Next = strconv.FormatUint(list[99].Seq, 10)
	}
	h.render(w, r, http.StatusOK, "rejections", "Rejected requests", p)
}
