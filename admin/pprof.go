package admin

import (
	"net/http"
	"net/http/pprof"

	"github.com/gorilla/mux"
)

// pprofRoutes serves Go's profiler under /debug/pprof/ on the admin
// listener, to admins only: profiles reveal code paths and timings, and a
// CPU profile or trace costs the gateway while it runs. For example:
//
//	go tool pprof -http=: 'http://:TOKEN@127.0.0.1:8081/debug/pprof/profile?seconds=10'
//
// (the seconds must stay under the admin listener's write timeout). A
// profile can hold archived bodies and tokens from memory, so each request
// is on the access trail.
func (a *Server) pprofRoutes(r *mux.Router) {
	r.Handle("/debug/pprof/cmdline", require(RoleAdmin, a.auditFirst("debug", pprof.Cmdline))).Methods(http.MethodGet)
	r.Handle("/debug/pprof/profile", require(RoleAdmin, a.auditFirst("debug", pprof.Profile))).Methods(http.MethodGet)
	r.Handle("/debug/pprof/symbol", require(RoleAdmin, a.auditFirst("debug", pprof.Symbol))).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/debug/pprof/trace", require(RoleAdmin, a.auditFirst("debug", pprof.Trace))).Methods(http.MethodGet)
	// Index also serves the named profiles: heap, goroutine, allocs, ...
	r.PathPrefix("/debug/pprof/").Handler(require(RoleAdmin, a.auditFirst("debug", pprof.Index))).Methods(http.MethodGet)
}
