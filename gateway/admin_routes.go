package gateway

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes is the admin listener's whole route table.
func (a *Admin) routes() http.Handler {
	r := mux.NewRouter().SkipClean(true)
	r.Use(withRequestID(a.log), recoverPanic, accessLog, securityHeaders, authenticate(&a.tokens), csrfGuard(a.csrf))
	r.HandleFunc("/healthz", handleHealth).Methods(http.MethodGet)
	if a.cfg.Metrics != nil {
		r.Handle("/metrics", a.cfg.Metrics).Methods(http.MethodGet)
	}
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Handle("/events/{id}", require(RoleAuditor, a.handleEvent)).Methods(http.MethodGet)
	api.Handle("/events/{id}/raw", require(RoleAuditor, a.handleRaw)).Methods(http.MethodGet)
	api.Handle("/rejections", require(RoleAuditor, a.handleRejections)).Methods(http.MethodGet)
	api.Handle("/events", require(RoleAuditor, a.handleList)).Methods(http.MethodGet)
	api.Handle("/export", require(RoleAuditor, a.handleExport)).Methods(http.MethodGet)
	api.Handle("/archive/verify", require(RoleAuditor, a.handleVerify)).Methods(http.MethodGet)
	api.Handle("/access", require(RoleAdmin, a.handleTrail)).Methods(http.MethodGet)
	api.Handle("/events/{id}/replay", require(RoleAdmin, a.handleReplay)).Methods(http.MethodPost)
	api.Handle("/deadletters", require(RoleAuditor, a.handleDeadLetters)).Methods(http.MethodGet)
	api.Handle("/deadletters/replay", require(RoleAdmin, a.handleReplayDead)).Methods(http.MethodPost)
	if a.cfg.Reload != nil {
		api.Handle("/reload", require(RoleAdmin, a.handleReload)).Methods(http.MethodPost)
	}
	if a.cfg.Backup != nil {
		api.Handle("/backup", require(RoleAdmin, a.handleBackup)).Methods(http.MethodGet)
	}
	// The archive browser's pages (admin_pages*.go, templates in ui/).
	r.Handle("/", require(RoleAuditor, a.pageSearch)).Methods(http.MethodGet)
	r.PathPrefix("/ui/static/").Handler(a.pages.static).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}", require(RoleAuditor, a.pageEvent)).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}/raw", require(RoleAuditor, a.pageRaw)).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}/replay", require(RoleAdmin, a.pageReplay)).Methods(http.MethodPost)
	r.Handle("/ui/deadletters", require(RoleAuditor, a.pageDeadLetters)).Methods(http.MethodGet)
	r.Handle("/ui/rejections", require(RoleAuditor, a.pageRejections)).Methods(http.MethodGet)
	r.Handle("/ui/access", require(RoleAdmin, a.pageAccess)).Methods(http.MethodGet)
	r.Handle("/ui/verify", require(RoleAuditor, a.pageVerify)).Methods(http.MethodGet)
	a.pprofRoutes(r) // admin_pprof.go: admins only
	r.NotFoundHandler = chain(errorHandler(ErrRouteNotFound), withRequestID(a.log), accessLog, securityHeaders, authenticate(&a.tokens))
	r.MethodNotAllowedHandler = chain(errorHandler(ErrMethodNotAllowed), withRequestID(a.log), accessLog, securityHeaders, authenticate(&a.tokens))
	return r
}
