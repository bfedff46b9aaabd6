package gateway

// routeFunc names the destinations of an accepted event.
type routeFunc = func(source, eventType string) []string

// SetRoute swaps the routing function atomically: a delivery uses the one
// in force when it was verified. Nil routes nowhere.
func (s *Server) SetRoute(fn func(source, eventType string) []string) {
	if fn == nil {
		fn = func(string, string) []string { return nil }
	}
	s.route.Store(&fn)
}
