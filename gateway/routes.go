package gateway

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// routes is the ingest listener's whole route table.
func (s *Server) routes() http.Handler {
	// SkipClean: an odd path gets a JSON 404, not mux's redirect.
	r := mux.NewRouter().SkipClean(true)
	r.Use(withRequestID(s.log), recoverPanic)
	// serveIngest writes the ingest route's access-log line itself, with
	// the delivery's outcome on it; the other routes get accessLog's.
	r.HandleFunc("/in/{source}", s.serveIngest).Methods(http.MethodPost)
	r.Handle("/healthz", accessLog(http.HandlerFunc(handleHealth))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", accessLog(http.HandlerFunc(s.handleReady))).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = chain(errorHandler(ErrRouteNotFound), withRequestID(s.log), accessLog)
	r.MethodNotAllowedHandler = chain(methodNotAllowed(r), withRequestID(s.log), accessLog)
	return r
}

// methodNotAllowed answers 405 with an Allow header naming the methods
// router serves at the request's path.
func methodNotAllowed(router *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			var match mux.RouteMatch
			if router.Match(probe, &match) && match.MatchErr == nil {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, ErrMethodNotAllowed)
	})
}

// chain wraps h in middleware, the first listed outermost. Mux's
// NotFound and MethodNotAllowed handlers bypass r.Use, so they get the
// same chain this way.
func chain(h http.Handler, mw ...mux.MiddlewareFunc) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

func errorHandler(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, err) })
}

func handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Ready(); err != nil {
		loggerFrom(r).WithError(err).Warn("not ready")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
