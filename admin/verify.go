package admin

import (
	"net/http"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// verifyRoutes run the chain check.
type verifyRoutes struct {
	base
	archive Verifier
}

// handleVerify is GET /api/v1/archive/verify: the chain check. It answers
// 200 with ok=false and the first broken link when the chain is broken.
func (h verifyRoutes) handleVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := h.archive.Verify(r.Context())
	if err == nil {
		err = h.audit(r, "verify", nil, "", rep.Checked)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, rep)
}

type verifyPage struct {
	Report inbox.VerifyReport
	Took   time.Duration
}

// pageVerify is GET /ui/verify: runs the chain check and shows it.
func (h verifyRoutes) pageVerify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rep, err := h.archive.Verify(r.Context())
	if err == nil {
		err = h.audit(r, "verify", nil, "", rep.Checked)
	}
	if err != nil {
		h.pageError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "verify", "Verify chain", verifyPage{Report: rep, Took: time.Since(start).Round(time.Millisecond)})
}
