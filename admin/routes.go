package admin

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/httpserve"
)

// routes is the admin listener's whole route table.
func (a *Server) routes() http.Handler {
	// UseEncodedPath: an escaped slash stays inside its path segment, so
	// /api/v1/events/ID%2Fraw is no event rather than ID's raw body.
	r := mux.NewRouter().SkipClean(true).UseEncodedPath()
	r.Use(httpserve.WithRequestID(a.log), httpserve.Recover, httpserve.AccessLog, securityHeaders, authenticate(&a.tokens), csrfGuard(a.csrf))
	r.HandleFunc("/healthz", httpserve.Health).Methods(http.MethodGet)
	// /readyz answers as on the ingest listener: monitoring that reaches
	// only the private listener can then tell a live porch from a ready one.
	r.HandleFunc("/readyz", httpserve.Ready(a.cfg.Ready)).Methods(http.MethodGet, http.MethodHead)
	if a.cfg.Metrics != nil {
		r.Handle("/metrics", a.cfg.Metrics).Methods(http.MethodGet)
	}
	// The API's routes sit on r itself, not a subrouter: a subrouter would
	// answer a wrong method with 404 rather than 405.
	const v1 = "/api/v1"
	r.Handle(v1+"/events/{id}", a.api(RoleAuditor, a.events.handleEvent)).Methods(http.MethodGet)
	r.Handle(v1+"/events/{id}/raw", a.api(RoleAuditor, a.events.handleRaw)).Methods(http.MethodGet)
	r.Handle(v1+"/rejections", a.api(RoleAuditor, a.rejections.handleRejections)).Methods(http.MethodGet)
	r.Handle(v1+"/events", a.api(RoleAuditor, a.search.handleList)).Methods(http.MethodGet)
	r.Handle(v1+"/export", a.api(RoleAuditor, a.search.handleExport)).Methods(http.MethodGet)
	r.Handle(v1+"/archive/verify", a.api(RoleAuditor, a.verify.handleVerify)).Methods(http.MethodGet)
	r.Handle(v1+"/access", a.api(RoleAdmin, a.trail.handleTrail)).Methods(http.MethodGet)
	r.Handle(v1+"/events/{id}/replay", a.api(RoleAdmin, a.replay.handleReplay)).Methods(http.MethodPost)
	r.Handle(v1+"/deadletters", a.api(RoleAuditor, a.deadLetters.handleDeadLetters)).Methods(http.MethodGet)
	r.Handle(v1+"/deadletters/replay", a.api(RoleAdmin, a.deadLetters.handleReplayDead)).Methods(http.MethodPost)
	r.Handle(v1+"/deadletters/abandon", a.api(RoleAdmin, a.abandon.handleAbandon)).Methods(http.MethodPost)
	if a.cfg.Reload != nil {
		r.Handle(v1+"/reload", a.api(RoleAdmin, a.auditFirst("reload", a.handleReload))).Methods(http.MethodPost)
	}
	if a.cfg.Backup != nil {
		r.Handle(v1+"/backup", a.api(RoleAdmin, a.auditFirst("backup", a.handleBackup))).Methods(http.MethodGet)
	}
	// The archive browser's pages (pages.go, templates in ui/).
	r.Handle("/", a.page(RoleAuditor, a.search.pageSearch)).Methods(http.MethodGet)
	r.PathPrefix("/ui/static/").Handler(a.pages.static).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}", a.page(RoleAuditor, a.events.pageEvent)).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}/raw", a.page(RoleAuditor, a.events.pageRaw)).Methods(http.MethodGet)
	r.Handle("/ui/events/{id}/replay", a.page(RoleAdmin, a.replay.pageReplay)).Methods(http.MethodPost)
	r.Handle("/ui/deadletters", a.page(RoleAuditor, a.deadLetters.pageDeadLetters)).Methods(http.MethodGet)
	r.Handle("/ui/deadletters/abandon", a.page(RoleAdmin, a.abandon.pageAbandon)).Methods(http.MethodPost)
	r.Handle("/ui/rejections", a.page(RoleAuditor, a.rejections.pageRejections)).Methods(http.MethodGet)
	r.Handle("/ui/access", a.page(RoleAdmin, a.trail.pageAccess)).Methods(http.MethodGet)
	r.Handle("/ui/verify", a.page(RoleAuditor, a.verify.pageVerify)).Methods(http.MethodGet)
	r.Handle("/ui/export", a.page(RoleAuditor, a.search.pageExport)).Methods(http.MethodGet)
	a.pprofRoutes(r) // pprof.go: admins only
	r.NotFoundHandler = httpserve.Chain(a.notFound(), httpserve.WithRequestID(a.log), httpserve.AccessLog, securityHeaders, authenticate(&a.tokens))
	r.MethodNotAllowedHandler = httpserve.Chain(httpserve.MethodNotAllowed(matches(r)), httpserve.WithRequestID(a.log), httpserve.AccessLog, securityHeaders, authenticate(&a.tokens))
	return r
}

// matches reports whether a route of router serves the request.
func matches(router *mux.Router) func(*http.Request) bool {
	return func(r *http.Request) bool {
		var m mux.RouteMatch
		return router.Match(r, &m) && m.MatchErr == nil
	}
}

// api is require for the archive API, rate-limited per token.
func (a *Server) api(min Role, h http.HandlerFunc) http.Handler {
	return require(min, a.limited(h))
}

// page is require for the archive pages: a signed-in user without the
// role gets an HTML page saying so, not the API's JSON. (Without a token
// the answer stays the 401 that makes the browser ask for one.)
func (a *Server) page(min Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := roleOf(r); got != RoleNone && got < min {
			a.pageError(w, r, ErrForbidden)
			return
		}
		require(min, a.limited(h)).ServeHTTP(w, r)
	})
}

// notFound answers unknown routes: an HTML page to a signed-in browser
// outside the API, JSON to everything else (the API answers JSON only).
func (a *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if roleOf(r) != RoleNone && strings.Contains(r.Header.Get("Accept"), "text/html") && !strings.HasPrefix(r.URL.Path, "/api/") {
			a.pageError(w, r, httpserve.ErrRouteNotFound)
			return
		}
		httpserve.NotFound(w, r)
	})
}
