// Package forward owns asynchronous delivery of archived events to
// internal handlers: routing events to destinations, building and signing
// the forwarded request (Standard Webhooks), scheduling attempts from the
// durable outbox, retry classification and backoff, per-destination
// circuit breaking and rate limiting, dead-lettering, and the seam where
// enrichment plugs in (Config.Prepare).
//
// It reads and settles the outbox through the small Source and Settler
// interfaces, which *inbox.DB implements. It must not import gateway,
// cmd/... or badger; it is the only package importing go-retryablehttp.
package forward
