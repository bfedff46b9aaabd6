package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/porchgw/porch/httpserve"
)

// handleBackup is GET /api/v1/backup: an online backup of the whole store,
// streamed as it is read (porch's framed backup format, ending in a
// checksum trailer; `porch restore` loads it). A failure after the first
// byte cannot change the status any more, so the connection is aborted:
// the client sees a broken transfer, never a short file that looks whole.
func (a *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	name := fmt.Sprintf("porch-%s.backup", time.Now().UTC().Format("20060102T150405Z"))
	setDownload(w, "application/octet-stream", name)
	sw := &httpserve.StatusWriter{ResponseWriter: w}
	if err := a.cfg.Backup(sw); err != nil {
		if sw.Status == 0 { // nothing sent yet: a proper error answer
			w.Header().Del("Content-Disposition")
			writeError(w, r, fmt.Errorf("backup: %w", err))
			return
		}
		httpserve.LoggerFrom(r).WithError(err).Error("backup failed mid-stream; aborting the transfer")
		panic(http.ErrAbortHandler)
	}
	httpserve.LoggerFrom(r).Info("backup streamed")
}
