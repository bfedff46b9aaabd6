package admin

import (
	"context"
	"net/http"

	"github.com/porchgw/porch/httpserve"
)

// ReloadResult is what a reload changed, and what it could not change.
type ReloadResult struct {
	// RestartRequired names the settings (YAML keys) that differ from the
	// running config but only take effect after a restart.
	RestartRequired []string `json:"restart_required"`
}

// reloadBody is the answer to POST /api/v1/reload.
type reloadBody struct {
	Reloaded bool `json:"reloaded"`
	ReloadResult
}

// handleReload is POST /api/v1/reload: re-read the config and swap what
// can change live. A config that fails validation is refused (422) and the
// running one keeps serving.
func (a *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Reload == nil {
		writeError(w, r, httpserve.ErrRouteNotFound)
		return
	}
	res, err := a.cfg.Reload(r.Context())
	if err != nil {
		httpserve.LoggerFrom(r).WithError(err).Warn("reload refused; running config kept")
		writeError(w, r, err)
		return
	}
	if res.RestartRequired == nil {
		res.RestartRequired = []string{}
	}
	httpserve.LoggerFrom(r).WithField("restart_required", res.RestartRequired).Info("config reloaded")
	httpserve.WriteJSON(w, http.StatusOK, reloadBody{Reloaded: true, ReloadResult: res})
}

// ReloadFunc re-reads and applies the config; see Config.Reload.
type ReloadFunc func(ctx context.Context) (ReloadResult, error)
