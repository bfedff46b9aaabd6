package inbox

import (
	"context"
	"errors"
	"io"
	"time"
)

// The interfaces below are the store as porch's components use it. Each
// engine (Badger, embedded; PostgreSQL, shared by several nodes)
// implements Store, and the conformance suite in inboxtest holds every
// engine to the same behaviour. Consumers (gateway, forward, enrich,
// metrics) declare the few methods they call; these name the whole.

// Ingest is the accept path.
type Ingest interface {
	// Accept archives, chains, deduplicates and queues ev. When it
	// returns nil the outcome is durable. It wraps ErrNotDurable or
	// ErrClosed when it could not be made so.
	Accept(ctx context.Context, ev *Event) (Result, error)
	// LogRejection records a request that was not archived as authentic.
	// It never blocks; what cannot be kept is counted as dropped.
	LogRejection(r Rejection)
}

// Reader is what the archive's readers (API, pages, CLI) use. Unknown
// ids give errors wrapping ErrNotFound.
type Reader interface {
	Event(id string) (*Event, error)
	Body(id string) ([]byte, error)
	Sightings(id string) (Sightings, error)
	Deliveries(id string) ([]DeliveryState, error)
	Attempts(id string) ([]Attempt, error)
	Rejections(before uint64, limit int) ([]Rejection, error)
	List(q Query) (Page, error)
	ExportMatching(ctx context.Context, q Query, fn func(Record) error) error
	Export(ctx context.Context, since, until time.Time, fn func(Record) error) error
	Verify(ctx context.Context) (VerifyReport, error)
	DeadLetters(f DeadLetterFilter) ([]DeadLetter, error)
	LookupDedup(source, key string) (string, error)
}

// Trail is the access trail: who read what.
type Trail interface {
	LogAccess(a Access) error
	AccessTrail(before uint64, limit int) ([]Access, error)
	// TrailDropped counts, per class, entries pushed off the trail.
	TrailDropped() map[string]uint64
}

// Outbox is the forwarder's protocol with the store. One scheduler per
// node asks what is due (Claim), makes the attempts, and records each
// outcome (Ack, Retry, DeadLetter) or gives the claim back (Release).
type Outbox interface {
	// Claim returns deliveries due at now, earliest due first: for each
	// destination named in want, at most want[destination]; each is the
	// earliest pending delivery of its interview for its destination,
	// and none is claimed already (by this node or another). What it
	// returns is claimed until settled, released, or until lease has
	// passed after now, when another claim may take it (a node that died
	// mid-attempt). next is when the earliest entry not returned becomes
	// due, zero when none is known. Destinations not in want are left
	// alone.
	Claim(now time.Time, want map[string]int, lease time.Duration) (due []Delivery, next time.Time, err error)
	// Release gives back a claim without recording an attempt.
	Release(d Delivery)
	// Wake receives after new entries became due (on any node, as soon
	// as the engine can tell).
	Wake() <-chan struct{}
	// EventWithBody returns the event with its Body, for forwarding.
	EventWithBody(id string) (*Event, error)
	// Ack, Retry and DeadLetter record an attempt's outcome for d as
	// Claim returned it. They act only while d's claim is the entry's
	// latest (it may have lapsed, if no other claim took the entry
	// since); a settle or Release from a claim another has since taken
	// changes nothing the new claim holds and fails with an error
	// wrapping ErrNotFound, as a settle of an entry settled already does.
	// Such an Ack may still record its attempt in the history: the
	// event was sent.
	Ack(d Delivery, a Attempt) error
	Retry(d Delivery, next time.Time, a *Attempt) error
	DeadLetter(d Delivery, a *Attempt, reason string) error
	Replay(id, dest string, r ReplayRequest) ([]string, error)
	ReplayDead(f DeadLetterFilter, r ReplayRequest) (BulkReplay, error)
	// Abandon moves every pending delivery to dest, a destination that
	// was removed, to the dead letters, as DeadLetter does without an
	// attempt: the dead letter with r.Reason, the delivery state dead,
	// the entry gone from the outbox, and a history line of kind
	// AttemptAbandon with r.By and r.Reason (no attempt is counted).
	// They no longer hold retention, and replay once dest is back. An
	// entry claimed with a lease that has not passed at now is left as it
	// is and counted in Leased. It works in transactions of bounded size,
	// so an error may come after some were dead-lettered; a second call
	// picks up what is left.
	Abandon(dest string, r AbandonRequest, now time.Time) (Abandoned, error)
	// OutboxStats is the backlog per destination.
	OutboxStats() (map[string]OutboxStat, error)
}

// Records holds enrichment's and reconciliation's own state.
type Records interface {
	Enrichment(id string) (Enrichment, error)
	PutEnrichment(r Enrichment) error
	ReconcileMark(source string) (time.Time, error)
	SetReconcileMark(source string, t time.Time) error
}

// Ops is what running a store takes.
type Ops interface {
	// Ready reports whether the store takes deliveries now.
	Ready() error
	// DiskSize is the bytes the store occupies; FreeBytes what its disk
	// has left. An engine that cannot tell returns ErrUnsupported.
	DiskSize() (int64, error)
	FreeBytes() (int64, error)
	// Backup writes an online backup; an engine whose backups are made
	// with its own tools returns an error wrapping ErrUnsupported that
	// says which.
	Backup(w io.Writer) error
	// Lead runs fn while this node leads for name: at most one node at a
	// time runs fn for a given name, and when the leader dies another
	// takes over. fn's context ends when leadership is lost or ctx ends.
	// Lead returns when ctx ends.
	Lead(ctx context.Context, name string, fn func(ctx context.Context) error) error
	Close() error
}

// Store is a whole store engine.
type Store interface {
	Ingest
	Reader
	Trail
	Outbox
	Records
	Ops
}

// ErrUnsupported is wrapped by an engine for what it leaves to other
// tools.
var ErrUnsupported = errors.New("not supported by this store engine")
