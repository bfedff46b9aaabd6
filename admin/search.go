package admin

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// searchRoutes serve the archive search and its export.
type searchRoutes struct {
	base
	archive Searcher
}

// handleList is GET /api/v1/events: a search, newest first.
func (h searchRoutes) handleList(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := h.archive.List(q)
	if err == nil {
		err = h.audit(r, "search", nil, describe(r.URL.Query()), len(page.Events))
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, page)
}

// handleExport is GET /api/v1/export: every archived event that matches
// the search filters (as /api/v1/events takes them; limit and cursor are
// ignored), oldest first (chain order), one JSON record per line with the
// raw body in base64, streamed as it is read.
func (h searchRoutes) handleExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.export(w, r, q)
}

// pageExport is GET /ui/export: the export of the search page's filters,
// for the page's Export button. It is handleExport but for errors, which
// come as a page, and the role check, which a page makes.
func (h searchRoutes) pageExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	h.export(w, r, q)
}

// export trails the export of q, then streams it as an NDJSON download.
func (h searchRoutes) export(w http.ResponseWriter, r *http.Request, q inbox.Query) {
	if err := h.audit(r, "export", nil, describe(r.URL.Query()), 0); err != nil {
		writeError(w, r, err)
		return
	}
	setDownload(w, "application/x-ndjson", "porch-export.ndjson")
	bw := bufio.NewWriterSize(w, 64<<10)
	x := inbox.NewExportWriter(bw)
	err := h.archive.ExportMatching(r.Context(), q, x.Write)
	if err == nil {
		err = x.End() // only a whole export gets its end line
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The status is sent, so the stream is aborted: the client sees a
		// failed download, and the file lacks its end line, which offline
		// verification reports. Logged for the operator.
		httpserve.LoggerFrom(r).WithError(err).WithField("records", x.Records()).Warn("export cut short")
		panic(http.ErrAbortHandler)
	}
	httpserve.LoggerFrom(r).WithField("records", x.Records()).Info("export done")
}

// searchPage is the data of the search page.
type searchPage struct {
	Q      url.Values
	Hidden []headerLine
	Page   inbox.Page
	Err    string
	Next   string // URL of the next page
}

// hiddenFilters are filters the form has no field for (an exact interview
// id, the event whose kept copies are listed, times to the second from a link or an edited URL): the form carries
// them on, so that a new search or an export keeps them.
var hiddenFilters = []string{"interview_id", "duplicate_of", "since", "until"}

// pageSearch is GET /: the search form and its results.
func (h searchRoutes) pageSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if s := v.Get("duplicate_of"); s != "" {
		v.Set("duplicate_of", strings.ToUpper(strings.TrimSpace(s))) // shown and carried on as the archive writes ids
	}
	sp := searchPage{Q: v}
	for _, k := range hiddenFilters {
		if s := v.Get(k); s != "" {
			sp.Hidden = append(sp.Hidden, headerLine{k, s})
		}
	}
	q, err := parseQuery(v)
	if err == nil {
		q.Limit = 50
		sp.Page, err = h.archive.List(q)
	}
	if err == nil {
		err = h.audit(r, "search", nil, describe(v), len(sp.Page.Events))
	}
	if err != nil {
		status, message := answers.Answer(err)
		if status != http.StatusBadRequest {
			writeError(w, r, err)
			return
		}
		sp.Err = message
	}
	if sp.Page.NextCursor != "" {
		nv := url.Values{}
		for k, vs := range v {
			nv[k] = vs
		}
		nv.Set("cursor", sp.Page.NextCursor)
		sp.Next = "/?" + nv.Encode()
	}
	h.render(w, r, http.StatusOK, "search", "Search", sp)
}
