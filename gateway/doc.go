// Package gateway owns HTTP ingress and provider verification: it reads a
// delivery, checks the provider's signature over the exact bytes received,
// and extracts the facts (event type, interview id, dedup keys) that the
// store needs.
//
// The provider code (Provider, Definition, JSStringify) consists of pure
// functions of (headers, body, now); it holds no state and is safe for
// concurrent use.
//
// The ingest listener bounds what hostile clients can hold: request bodies
// share an in-flight memory budget taken as their bytes arrive, uploads
// still arriving are cut to make room for newer deliveries (budget.go),
// and one client address holds a bounded number of connections
// (connlimit.go).
//
// The admin listener is package admin; the HTTP plumbing both listeners
// share (binding, shutdown, request ids, JSON errors) is package httpserve.
// What a provider sends (its header names, event types, signing
// primitive and sample bodies) belongs to package sender, which
// verification shares.
//
// Package gateway must not import admin, forward or badger; its only
// other shared vocabulary with the rest of porch is the inbox types.
package gateway
