package admin

import (
	"context"
	"time"

	"github.com/porchgw/porch/inbox"
)

// The store as the admin listener's handlers use it, one small interface
// per resource: each handler holds only the ones it calls. Methods are
// called concurrently, and return errors wrapping inbox.ErrNotFound for
// unknown ids.

// EventReader reads one archived event and its exact bytes.
type EventReader interface {
	Event(id string) (*inbox.Event, error)
	Body(id string) ([]byte, error)
}

// History is what became of an event after it arrived: the duplicates
// seen, its deliveries, and every attempt and replay.
type History interface {
	Sightings(id string) (inbox.Sightings, error)
	Deliveries(id string) ([]inbox.DeliveryState, error)
	Attempts(id string) ([]inbox.Attempt, error)
}

// Searcher finds archived events: a page of a search, newest first, or
// every match, oldest first, for an export (fn's error stops it).
type Searcher interface {
	List(q inbox.Query) (inbox.Page, error)
	ExportMatching(ctx context.Context, q inbox.Query, fn func(inbox.Record) error) error
}

// Verifier checks the archive's hash chain. A broken chain is a report
// with OK false, not an error.
type Verifier interface {
	Verify(ctx context.Context) (inbox.VerifyReport, error)
}

// Auditor writes the access trail. Every read of the archive is trailed
// before it is answered, so LogAccess failing fails the request.
type Auditor interface {
	LogAccess(a inbox.Access) error
}

// TrailReader reads the access trail, newest first, before seq before
// (0: from the newest).
type TrailReader interface {
	AccessTrail(before uint64, limit int) ([]inbox.Access, error)
}

// RejectionReader reads the bounded log of refused requests, newest
// first, before seq before (0: from the newest).
type RejectionReader interface {
	Rejections(before uint64, limit int) ([]inbox.Rejection, error)
}

// Replayer queues one event again, for dest or (dest "") every
// destination it was routed to, and returns the destinations queued.
type Replayer interface {
	Replay(id, dest string, r inbox.ReplayRequest) ([]string, error)
}

// DeadLetterStore lists dead letters and replays those a filter selects.
type DeadLetterStore interface {
	DeadLetters(f inbox.DeadLetterFilter) ([]inbox.DeadLetter, error)
	ReplayDead(f inbox.DeadLetterFilter, r inbox.ReplayRequest) (inbox.BulkReplay, error)
}

// Abandoner gives up on the pending deliveries of a removed
// destination, dead-lettering them (inbox.Outbox.Abandon).
type Abandoner interface {
	OutboxStats() (map[string]inbox.OutboxStat, error)
	Abandon(dest string, r inbox.AbandonRequest, now time.Time) (inbox.Abandoned, error)
}

// Archive is everything New hands out to the handlers: the union of the
// interfaces above. An inbox.Store satisfies it.
type Archive interface {
	EventReader
	History
	Searcher
	Verifier
	Auditor
	TrailReader
	RejectionReader
	Replayer
	DeadLetterStore
	Abandoner
}
