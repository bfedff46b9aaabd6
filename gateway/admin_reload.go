package gateway

import (
	"context"
	"net/http"
)

// routeFunc names the destinations of an accepted event.
type routeFunc = func(source, eventType string) []string

// SetRoute swaps the routing function atomically: a delivery uses the one
// in force when it was verified. Nil routes nowhere.
func (s *Server) SetRoute(fn func(source, eventType string) []string) {
	if fn == nil {
		fn = func(string, string) []string { return nil }
	}
	s.route.Store(&fn)
}

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
func (a *Admin) handleReload(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Reload == nil {
		writeError(w, r, ErrRouteNotFound)
		return
	}
	res, err := a.cfg.Reload(r.Context())
	if err != nil {
		loggerFrom(r).WithError(err).Warn("reload refused; running config kept")
		writeError(w, r, err)
		return
	}
	if res.RestartRequired == nil {
		res.RestartRequired = []string{}
	}
	loggerFrom(r).WithField("restart_required", res.RestartRequired).Info("config reloaded")
	writeJSON(w, http.StatusOK, reloadBody{Reloaded: true, ReloadResult: res})
}

// ReloadFunc re-reads and applies the config; see AdminConfig.Reload.
type ReloadFunc func(ctx context.Context) (ReloadResult, error)
