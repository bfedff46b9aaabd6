// Package enrich owns porch's use of the providers' APIs: the Koji and
// Gather API clients, one rate limiter per API key shared by every caller,
// the enrichment policy applied before an event is forwarded (fetch,
// re-fetch while the provider is still processing, what to do when the API
// keeps failing), and the Gather reconciliation poller that recovers
// deliveries missed during an outage.
//
// It stores what it fetched, and the poller's high-water mark, through
// small consumer-defined interfaces that every inbox.Store implements. The poller
// builds and keys the deliveries it recreates through a RecreateFunc it is
// given (cmd/porch passes the code that builds and keys real ones), so
// no copy of those rules lives here. It must not
// import gateway, sender, forward, cmd/..., badger, gorilla/mux or
// go-retryablehttp; it talks HTTP with net/http.
//
// Concurrency: an Enricher and its Clients are safe for concurrent use;
// a Reconciler is run by one goroutine (its Run). API keys are never
// logged, stored or put in an error.
package enrich
