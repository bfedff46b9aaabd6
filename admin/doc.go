// Package admin owns porch's private listener: the archive API and the
// archive pages (html/template, embedded from ui/), tokens and roles,
// CSRF, the per-token rate limit, the access trail written before every
// answer, replay and dead letters (a removed destination's pending
// deliveries abandoned to them too), and the operator routes (reload,
// backup, pprof, /metrics, /healthz, /readyz).
//
// Its handlers are grouped by resource (events, search and export, chain
// verification, access trail, rejections, replay, dead letters), and each
// group holds only the small store interfaces it calls (archive.go); New
// takes one value satisfying them all, an inbox.Store.
//
// Package admin must not import gateway (provider ingress), forward or any
// store engine: it shares HTTP plumbing with gateway through httpserve and
// its vocabulary with the rest of porch through inbox. The Server is safe
// for concurrent use; SetTokens swaps the tokens while it serves.
package admin
