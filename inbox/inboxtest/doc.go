// Package inboxtest is the conformance suite every store engine must
// pass: one table of behaviours (accepting new and duplicate deliveries,
// batch isolation, quarantine, chain continuity, concurrent writers and
// nodes, reopening, recovery from a crash mid-write; the archive's
// reads, searches, exports and tamper checks; the trail and log bounds;
// the outbox's claims, leases, order and fencing; abandoning a removed
// destination) run against an engine through a constructor, the way
// watermill's pub/sub tests run against every pub/sub.
//
// It imports inbox and the standard library only; engines import it from
// their tests. Where engines legitimately differ, Features says so and the
// suite reports the case it does not run, naming the feature.
//
// Tests of the store's consumers (forward, admin, enrich, metrics, cmd)
// also read the outbox through it (Queued, Depth), as the forwarder and
// metrics do, rather than each keeping a copy.
package inboxtest
