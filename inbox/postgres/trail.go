package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// trailWarnEvery is how often at most a node warns that a class of the
// trail is full.
const trailWarnEvery = time.Minute

// trailClass is one class's drop count on this node.
type trailClass struct {
	dropped  atomic.Uint64
	mu       sync.Mutex
	lastWarn time.Time
}

// LogAccess appends a to the access trail. When a's class
// (inbox.TrailClass) is over its bound (Options.TrailSearchSize or
// TrailLogSize) its oldest entries are dropped, at most two per call as
// the Badger engine does, counted in TrailDropped and warned about. The
// class's count row is locked for the transaction, so nodes logging at
// once keep one bound.
func (db *DB) LogAccess(a inbox.Access) error {
	a = inbox.BoundAccess(a)
	if a.At.IsZero() {
		a.At = db.opt.Now()
	}
	class := inbox.TrailClass(a.Action)
	size := db.opt.TrailLogSize
	if class == inbox.TrailSearch {
		size = db.opt.TrailSearchSize
	}
	a.Seq = 0 // the row's seq is the entry's
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("access trail: %w", err)
	}
	ctx, cancel := readCtx()
	defer cancel()
	var dropped int64
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var n int64
		err := tx.QueryRow(ctx, `UPDATE access_trail_classes SET entries = entries + 1 WHERE class = $1 RETURNING entries`, class).Scan(&n)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO access_trail (class, entry) VALUES ($1, $2)`, class, string(b)); err != nil {
			return err
		}
		if over := min(n-int64(size), 2); over > 0 {
			dropped, err = dropOldest(ctx, tx, class, over)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("access trail: %w", err)
	}
	if dropped > 0 {
		db.trailDropped(class, size, dropped)
	}
	return nil
}

// dropOldest deletes the n oldest entries of class and returns how many
// it deleted.
func dropOldest(ctx context.Context, tx pgx.Tx, class string, n int64) (int64, error) {
	ct, err := tx.Exec(ctx, `DELETE FROM access_trail WHERE seq IN (
  SELECT seq FROM access_trail WHERE class = $1 ORDER BY seq LIMIT $2)`, class, n)
	if err != nil {
		return 0, err
	}
	d := ct.RowsAffected()
	_, err = tx.Exec(ctx, `UPDATE access_trail_classes SET entries = entries - $2 WHERE class = $1`, class, d)
	return d, err
}

func (db *DB) trailClass(class string) *trailClass {
	if class == inbox.TrailSearch {
		return &db.trailSearch
	}
	return &db.trailKept
}

// trailDropped counts a drop and warns, at most once per trailWarnEvery
// per class. The warning names the class and counts, never a token.
func (db *DB) trailDropped(class string, size int, n int64) {
	c := db.trailClass(class)
	total := c.dropped.Add(uint64(n))
	now := db.opt.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lastWarn.IsZero() && now.Sub(c.lastWarn) < trailWarnEvery {
		return
	}
	c.lastWarn = now
	db.log.WithField("class", class).WithField("capacity", size).WithField("dropped_total", total).
		Warn("access trail full: oldest entries of this class dropped")
}

// TrailDropped is how many entries each trail class has dropped since
// this node opened the store, by class name; each node counts its own.
func (db *DB) TrailDropped() map[string]uint64 {
	return map[string]uint64{inbox.TrailSearch: db.trailSearch.dropped.Load(), inbox.TrailSensitive: db.trailKept.dropped.Load()}
}

// seqBefore is a paging bound as a bigint parameter: every sequence is
// below one past the largest bigint, so such a bound means "from the
// newest" (0), as it does on Badger, which compares it unsigned.
func seqBefore(before uint64) int64 {
	if before > math.MaxInt64 {
		return 0
	}
	return int64(before)
}

// AccessTrail returns up to limit trail entries, newest first, with Seq
// below before (0 means from the newest).
func (db *DB) AccessTrail(before uint64, limit int) ([]inbox.Access, error) {
	out := []inbox.Access{}
	if limit <= 0 {
		return out, nil
	}
	ctx, cancel := readCtx()
	defer cancel()
	rows, _ := db.pool.Query(ctx, `SELECT seq, entry FROM access_trail WHERE ($1::bigint = 0 OR seq < $1)
ORDER BY seq DESC LIMIT $2`, seqBefore(before), limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (inbox.Access, error) {
		var a inbox.Access
		var seq int64
		var b []byte
		if err := row.Scan(&seq, &b); err != nil {
			return a, err
		}
		err := json.Unmarshal(b, &a)
		a.Seq = uint64(seq)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("access trail: %w", err)
	}
	if out == nil {
		out = []inbox.Access{}
	}
	return out, nil
}
