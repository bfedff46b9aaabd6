// Package inbox is the domain of porch's durable state: the types that
// gateway, forward, admin, enrich and the store engines share (Event,
// Result, Delivery, Attempt, Query, Page, Record, Rejection, Access,
// DeadLetter, Enrichment, VerifyReport, …), the errors callers branch on,
// and the store contract (store.go: Ingest, Reader, Trail, Outbox,
// Records, Ops and Store), each interface documented where it is
// declared.
//
// It also holds the rules every engine applies the same way, so that an
// event archived by one engine reads, hashes and deduplicates as it would
// in another: Prepare and BoundKey (how an event and its dedup keys are
// stored), AsStored, FoldCase and FoldInterview (how searches compare),
// IDAt and IDTime (event ids carry their archive time), ChainHash and
// ChainCheck (the hash chain), VerifyExport (checking an export offline),
// BoundHeaders and EncodeRejection (what the rejection log keeps).
//
// The engines are subpackages named after what they wrap: inbox/badger
// (embedded, one process) and inbox/postgres (shared by several nodes);
// inbox/inboxtest is the conformance suite both pass. cmd/porch picks the
// engine from the config.
//
// It imports only the standard library and small helpers (ulid): never a
// database driver (Badger, pgx), gateway, forward, admin, cmd, net/http,
// gorilla/mux or go-retryablehttp.
package inbox
