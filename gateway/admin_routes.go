package gateway

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes is the admin listener's whole route table.
func (a *Admin) routes() http.Handler {
	r := mux.NewRouter().SkipClean(true)
	r.Use(withRequestID(a.log), recoverPanic, accessLog, authenticate(&a.tokens))
	r.HandleFunc("/healthz", handleHealth).Methods(http.MethodGet)
	if a.cfg.Metrics != nil {
		r.Handle("/metrics", a.cfg.Metrics).Methods(http.MethodGet)
	}
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Handle("/events/{id}", require(RoleAuditor, a.handleEvent)).Methods(http.MethodGet)
	api.Handle("/events/{id}/raw", require(RoleAuditor, a.handleRaw)).Methods(http.MethodGet)
	api.Handle("/rejections", require(RoleAuditor, a.handleRejections)).Methods(http.MethodGet)
	r.NotFoundHandler = chain(errorHandler(ErrRouteNotFound), withRequestID(a.log), accessLog, authenticate(&a.tokens))
	r.MethodNotAllowedHandler = chain(errorHandler(ErrMethodNotAllowed), withRequestID(a.log), accessLog, authenticate(&a.tokens))
	return r
}
