// Package postgres is porch's PostgreSQL store engine: several porch nodes
// may share one database. It owns the schema (numbered SQL migrations
// embedded in the binary, applied under an advisory lock) and the accept
// path: dedup, archive, hash chain and outbox rows written in one
// transaction per group-committed batch, with the same outcomes as the
// Badger engine's Accept. It also serves the archive's readers (events,
// bodies, sightings, searches, exports, chain checks), the access trail,
// the rejection log, enrichment records and reconciliation marks, each
// as the Badger engine does.
//
// It also owns forwarding's side of the store (inbox.Outbox): the outbox
// that every node claims from, delivery states and history, dead letters
// and replays; leadership (Lead), by which one node at a time runs a
// singleton job such as retention; and retention itself (Prune).
//
// Baseline is not part of the store: it is the least a durable receiver
// on PostgreSQL does per batch, in a schema of its own, for porch bench
// to measure beside porch.
//
// It and its test helper pgtest are the only packages that import pgx.
// It imports inbox for the domain types and must not import gateway,
// forward or cmd.
//
// # Guarantees
//
// Accept returns a Result only after the COMMIT holding the delivery
// returned. Batches from every node lock the one-row chain_head table,
// so batches are applied one at a time across all nodes: dedup is exact
// (the same delivery raced to two nodes yields one event, and both
// answers name it) and the hash chain is one chain in seq order. A batch
// either locks the head before it reads dedup keys and numbers events
// (two round trips), or, when this node committed the newest link, is
// built on that link and sent whole in one round trip: its first
// statement locks the head and fails the batch if the head moved, the
// unique index on dedup keys fails it if a key is held, and its
// sightings are written only for keys the database holds; a failed
// batch writes nothing and is built again the first way. All methods
// are safe for concurrent use.
//
// The access trail's classes and the rejection log are bounded across
// all nodes: each writer locks its log's count row, appends, and trims
// the oldest entries in the same transaction. TrailDropped and
// RejectionsDropped count what this node dropped. Verify walks the chain
// in seq order from the chain_checkpoint row.
//
// Claim leases outbox rows to the node that claims them (lease_owner,
// lease_until) with FOR UPDATE SKIP LOCKED, so nodes claiming at once
// never get the same row while its lease holds, and a node that died
// mid-attempt loses its claims when their leases pass. Leases are judged
// by the time each node passes to Claim, not the server's clock: nodes
// must keep their clocks in sync (NTP). A delivery may still go out
// twice (a node that outlives its lease, or dies after sending but
// before settling): forwarding is at least once. Settles and releases
// are fenced: each claim's token is its owner and lease end, so one from
// a claim another has retaken since changes nothing of the new claim.
// The deliveries of one
// interview to one destination go one at a time, in seq order, whichever
// nodes claim them.
//
// Every transaction that makes outbox rows due sends a notification on a
// channel named after the schema (LISTEN/NOTIFY), delivered at COMMIT,
// and each node listens on a connection of its own that reconnects, so
// Wake fires on every node. Lead holds a session-level advisory lock,
// keyed by the schema and the job's name, on a connection of its own: if
// that connection dies, or falls silent (TCP keepalives and
// idle_session_timeout), the server releases the lock and another node
// takes over. Retention removes a prefix of the chain in seq order and
// records the newest removed link in chain_checkpoint in the same
// transaction; an event's enrichment, dedup keys and sightings go with
// it (deleted by event id: the accept path writes them without foreign
// keys), and its delivery states, history and dead letters by ON DELETE
// CASCADE.
//
// Backups are PostgreSQL's business (pg_dump, or physical backups):
// Backup and FreeBytes return errors wrapping inbox.ErrUnsupported.
//
// Text columns cannot hold NUL bytes in PostgreSQL, so a NUL in an
// event's type, interview id, quarantine reason or dedup key is stored
// as U+FFFD, before the chain hash is computed (dedup keys are matched by
// the SHA-256 of their exact bytes). The Badger engine keeps such bytes.
//
// A btree index entry holds at most about 2,700 bytes, so an event type
// longer than 2,048 bytes (only a quarantined event has one) is stored in
// the indexed type column as "%#" and its SHA-256, and whole in
// type_full; reads, searches and dead letters take the whole one.
package postgres
