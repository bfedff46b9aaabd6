package httpserve

import (
	"net/http"
	"strings"
)

// MethodNotAllowed answers 405 with an Allow header naming the methods
// served at the request's path: those for which matches, asked about the
// request with each method in turn, says a route matches.
func MethodNotAllowed(matches func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if matches(probe) {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		base.Write(w, r, ErrMethodNotAllowed)
	})
}

// NotFound answers 404 as JSON.
func NotFound(w http.ResponseWriter, r *http.Request) { base.Write(w, r, ErrRouteNotFound) }

// Chain wraps h in middleware, the first listed outermost. A router's
// NotFound and MethodNotAllowed handlers bypass its middleware, so they
// get the same chain this way.
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Health answers /healthz: the process is up.
func Health(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Ready answers /readyz from ready: 200 while it returns nil, 503
// otherwise. It logs nothing: a load balancer probes every few seconds,
// so ready itself says when readiness changes.
func Ready(ready func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ready(); err != nil {
			WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}
