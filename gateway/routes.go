package gateway

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/httpserve"
)

// routes is the ingest listener's whole route table.
func (s *Server) routes() http.Handler {
	// SkipClean: an odd path gets a JSON 404, not mux's redirect.
	r := mux.NewRouter().SkipClean(true)
	r.Use(httpserve.WithRequestID(s.log), httpserve.Recover)
	// serveIngest writes the ingest route's access-log line itself, with
	// the delivery's outcome on it; the other routes get AccessLog's.
	r.HandleFunc("/in/{source}", s.serveIngest).Methods(http.MethodPost)
	r.Handle("/healthz", httpserve.AccessLog(http.HandlerFunc(httpserve.Health))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", httpserve.AccessLog(httpserve.Ready(s.cfg.Ready))).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = httpserve.Chain(http.HandlerFunc(httpserve.NotFound), httpserve.WithRequestID(s.log), httpserve.AccessLog)
	r.MethodNotAllowedHandler = httpserve.Chain(httpserve.MethodNotAllowed(matches(r)), httpserve.WithRequestID(s.log), httpserve.AccessLog)
	return r
}

// matches reports whether a route of router serves the request.
func matches(router *mux.Router) func(*http.Request) bool {
	return func(r *http.Request) bool {
		var m mux.RouteMatch
		return router.Match(r, &m) && m.MatchErr == nil
	}
}
