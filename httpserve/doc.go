// Package httpserve is what porch's two HTTP listeners (the ingest
// listener in gateway, the admin listener in admin) share: binding and
// graceful shutdown (Listener), the request id, access-log and panic
// middleware, JSON answers, and the table that turns a listener's errors
// into statuses and the words a client may read (Rules).
//
// It routes nothing itself: gateway and admin own their route tables
// (and gorilla/mux); MethodNotAllowed asks the router which methods a
// path serves through a function it is given.
//
// Package httpserve must not import any other porch package: it knows
// HTTP, not webhooks or the archive. Its functions are safe for
// concurrent use.
package httpserve
