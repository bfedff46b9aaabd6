package gateway

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
// (the seconds must stay under the admin listener's write timeout).
func (a *Admin) pprofRoutes(r *mux.Router) {
	r.Handle("/debug/pprof/cmdline", require(RoleAdmin, pprof.Cmdline)).Methods(http.MethodGet)
	r.Handle("/debug/pprof/profile", require(RoleAdmin, pprof.Profile)).Methods(http.MethodGet)
	r.Handle("/debug/pprof/symbol", require(RoleAdmin, pprof.Symbol)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/debug/pprof/trace", require(RoleAdmin, pprof.Trace)).Methods(http.MethodGet)
	// Index also serves the named profiles: heap, goroutine, allocs, ...
	r.PathPrefix("/debug/pprof/").Handler(require(RoleAdmin, pprof.Index)).Methods(http.MethodGet)
}
