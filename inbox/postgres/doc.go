// Package postgres is porch's PostgreSQL store engine: several porch nodes
// may share one database. It owns the schema (numbered SQL migrations
// embedded in the binary, applied under an advisory lock) and the accept
// path: dedup, archive, hash chain and outbox rows written in one
// transaction per group-committed batch, with the same outcomes as
// inbox.DB.Accept. It also serves the archive's readers (events, bodies,
// sightings, searches, exports, chain checks), the access trail, the
// rejection log, enrichment records and reconciliation marks, each as
// inbox.DB does.
//
// It and its test helper pgtest are the only packages that import pgx.
// It imports inbox for the domain types and must not import gateway,
// forward or cmd.
//
// # Guarantees
//
// Accept returns a Result only after the COMMIT holding the delivery
// returned. Batches from every node lock the one-row chain_head table
// before they read dedup keys or number events, so batches are applied
// one at a time across all nodes: dedup is exact (the same delivery
// raced to two nodes yields one event, and both answers name it) and the
// hash chain is one chain in seq order. The unique index on dedup keys
// backs this up. All methods are safe for concurrent use.
//
// The access trail's classes and the rejection log are bounded across
// all nodes: each writer locks its log's count row, appends, and trims
// the oldest entries in the same transaction. TrailDropped and
// RejectionsDropped count what this node dropped. Verify walks the chain
// in seq order from the chain_checkpoint row.
//
// Text columns cannot hold NUL bytes in PostgreSQL, so a NUL in an
// event's type, interview id, quarantine reason or dedup key is stored
// as U+FFFD, before the chain hash is computed (dedup keys are matched by
// the SHA-256 of their exact bytes). The Badger engine keeps such bytes.
package postgres
