// Package metrics owns porch's Prometheus instrumentation: one
// non-global registry, the collectors, and plain Observe functions that the
// other packages' hooks are wired to in cmd/porch, so that gateway, inbox
// and forward never import Prometheus.
//
// Every Observe method is safe for concurrent use. Label values come from
// configuration (source and destination names, outcomes from a fixed set),
// never from request input, so cardinality is bounded by the config.
//
// Package metrics may import gateway and inbox for their types; nothing
// but cmd imports it.
package metrics
