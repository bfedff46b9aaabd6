package admin

import "github.com/gorilla/mux"

// Routes lists every route the admin listener serves, as
// "METHOD path-template", so a test can walk them all.
func Routes(a *Server) []string {
	var out []string
	_ = a.srv.Handler.(*mux.Router).Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		methods, merr := rt.GetMethods()
		if err != nil || merr != nil || rt.GetHandler() == nil {
			return nil // a subrouter's prefix, not a route
		}
		for _, m := range methods {
			out = append(out, m+" "+tpl)
		}
		return nil
	})
	return out
}

// RawType exposes rawType.
var RawType = rawType
