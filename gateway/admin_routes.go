package gateway

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// routes is the admin listener's whole route table.
func (a *Admin) routes() http.Handler {
	r := mux.NewRouter().SkipClean(true)
	r.Use(withRequestID(a.log), recoverPanic, accessLog, securityHeaders, authenticate(&a.tokens), csrfGuard(a.csrf))
	r.HandleFunc("/healthz", handleHealth).Methods(http.MethodGet)
	r.HandleFunc("/readyz", a.handleReady).Methods(http.MethodGet, http.MethodHead)
	if a.cfg.Metrics != nil {
		r.Handle("/metrics", a.cfg.Metrics).Methods(http.MethodGet)
	}
	// The API's routes sit on r itself, not a subrouter: a subrouter would
	// answer a wrong method with 404 rather than 405.
	const v1 = "/api/v1"
	r.Handle(v1+"/events/{id}", a.api(RoleAuditor, a.handleEvent)).Methods(http.MethodGet)
	r.Handle(v1+"/events/{id}/raw", a.api(RoleAuditor, a.handleRaw)).Methods(http.MethodGet)
	r.Handle(v1+"/rejections", a.api(RoleAuditor, a.handleRejections)).Methods(http.MethodGet)
	r.Handle(v1+"/events", a.api(RoleAuditor, a.handleList)).Methods(http.MethodGet)
	r.Handle(v1+"/export", a.api(RoleAuditor, a.handleExport)).Methods(http.MethodGet)
	r.Handle(v1+"/archive/verify", a.api(RoleAuditor, a.handleVerify)).Methods(http.MethodGet)
	r.Handle(v1+"/access", a.api(RoleAdmin, a.handleTrail)).Methods(http.MethodGet)
	r.Handle(v1+"/events/{id}/replay", a.api(RoleAdmin, a.handleReplay)).Methods(http.MethodPost)
	r.Handle(v1+"/deadletters", a.api(RoleAuditor, a.handleDeadLetters)).Methods(http.MethodGet)
	r.Handle(v1+"/deadletters/replay", a.api(RoleAdmin, a.handleReplayDead)).Methods(http.MethodPost)
	if a.cfg.Reload != nil {
		r.Handle(v1+"/reload", a.api(RoleAdmin, a.auditFirst("reload", a.handleReload))).Methods(http.MethodPost)
	}
	if a.cfg.Backup != nil {
		r.Handle(v1+"/backup", a.api(RoleAdmin, a.auditFirst("backup", a.handleBackup))).Methods(http.MethodGet)
	}
	// The archive browser's pages (admin_pages*.go, templates in ui/).
	r.Handle("/", a.page(RoleAuditor, a.pageSearch)).Methods(http.MethodGet)
	r.PathPrefix("/ui/static/").Handler(a.pages.static).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}", a.page(RoleAuditor, a.pageEvent)).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}/raw", a.page(RoleAuditor, a.pageRaw)).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}/replay", a.page(RoleAdmin, a.pageReplay)).Methods(http.MethodPost)
	r.Handle("/ui/deadletters", a.page(RoleAuditor, a.pageDeadLetters)).Methods(http.MethodGet)
	r.Handle("/ui/rejections", a.page(RoleAuditor, a.pageRejections)).Methods(http.MethodGet)
	r.Handle("/ui/access", a.page(RoleAdmin, a.pageAccess)).Methods(http.MethodGet)
	r.Handle("/ui/verify", a.page(RoleAuditor, a.pageVerify)).Methods(http.MethodGet)
	r.Handle("/ui/export", a.page(RoleAuditor, a.pageExport)).Methods(http.MethodGet)
	a.pprofRoutes(r) // admin_pprof.go: admins only
	r.NotFoundHandler = chain(a.notFound(), withRequestID(a.log), accessLog, securityHeaders, authenticate(&a.tokens))
	r.MethodNotAllowedHandler = chain(methodNotAllowed(r), withRequestID(a.log), accessLog, securityHeaders, authenticate(&a.tokens))
	return r
}

// handleReady answers /readyz as the ingest listener does: 200 while
// the store takes deliveries, 503 otherwise. Monitoring that reaches only
// the private listener can then tell a live porch from a ready one.
func (a *Admin) handleReady(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Ready(); err != nil {
		loggerFrom(r).WithError(err).Warn("not ready")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// api is require for the archive API, rate-limited per token.
func (a *Admin) api(min Role, h http.HandlerFunc) http.Handler {
	return require(min, a.limited(h))
}

// page is require for the archive pages: a signed-in user without the
// role gets an HTML page saying so, not the API's JSON. (Without a token
// the answer stays the 401 that makes the browser ask for one.)
func (a *Admin) page(min Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := roleOf(r); got != RoleNone && got < min {
			a.pageError(w, r, ErrForbidden)
			return
		}
		require(min, a.limited(h)).ServeHTTP(w, r)
	})
}

// notFound answers unknown routes: an HTML page to a signed-in browser,
// JSON to everything else.
func (a *Admin) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if roleOf(r) != RoleNone && strings.Contains(r.Header.Get("Accept"), "text/html") {
			a.pageError(w, r, ErrRouteNotFound)
			return
		}
		errorHandler(ErrRouteNotFound).ServeHTTP(w, r)
	})
}
