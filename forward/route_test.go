package forward

import (
	"slices"
	"testing"
)

// Router sends an event to each destination with a matching glob, once,
// and "*" matches every event, a type with '/' in it included.
func TestRouter(t *testing.T) {
	route := Router([]Destination{
		{Name: "all", Match: []string{"*"}},
		{Name: "koji", Match: []string{"koji:*", "koji:interview.*"}},
		{Name: "gather-interviews", Match: []string{"gather:interview/*"}},
		{Name: "none", Match: []string{"none:none"}},
	})
	for _, c := range []struct {
		source, event string
		want          []string
	}{
		{"koji", "interview.completed", []string{"all", "koji"}},
		{"koji", "../../etc/passwd", []string{"all", "koji"}},
		{"gather", "interview/updated", []string{"all", "gather-interviews"}},
		{"gather", "interview.updated", []string{"all"}},
	} {
		if got := route(c.source, c.event); !slices.Equal(got, c.want) {
			t.Errorf("%s:%s routed to %q, want %q", c.source, c.event, got, c.want)
		}
	}
}
