package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sirupsen/logrus"
)

// defaultLeadEvery is how often a node that does not lead tries for the
// lock, and how often the leader checks that its lock's connection is
// alive: a dead leader is replaced within about twice this.
const defaultLeadEvery = 3 * time.Second

// defaultLeadIdle is how long the server lets a lock's session sit
// silent before it ends the session, releasing the lock: its node, when
// alive, speaks every leadEvery, so a node that stopped (a hung
// process, a host or network gone without closing) loses leadership
// within this.
const defaultLeadIdle = 4 * defaultLeadEvery

// lockKey is the advisory lock key of name, in the engine's schema.
func (db *DB) lockKey(name string) int64 {
	sum := sha256.Sum256([]byte("porch lead\x00" + db.scope + "\x00" + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// Lead runs fn while this node leads for name: it holds a session-level
// advisory lock, derived from name, on a connection of its own, so at
// most one node of the database runs fn for name at a time. A node that
// does not lead tries again every few seconds. fn's context ends when
// ctx ends, when the DB closes, or when the lock's connection is lost
// (the server then releases the lock, and another node takes over); fn
// must return then. Should fn return while leading, the lock is given up
// and taken again, and fn run again. Lead returns nil once ctx ends or
// the DB closes.
func (db *DB) Lead(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if err := db.isOpen(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(db.ctx, cancel)()
	key := db.lockKey(name)
	log := db.log.WithField("lead", name)
	for {
		if err := db.leadOnce(ctx, key, log, fn); err != nil && ctx.Err() == nil {
			log.WithField("error", err.Error()).Warn("lead: lost or could not take the lock; trying again")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(db.leadEvery):
		}
	}
}

// leadOnce connects and tries for the lock until it takes it, then runs
// fn until fn returns or the connection is lost. Closing the connection
// releases the lock.
func (db *DB) leadOnce(ctx context.Context, key int64, log logrus.FieldLogger, fn func(ctx context.Context) error) error {
	conn, err := db.dedicatedConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	// idle_session_timeout is PostgreSQL 14's; older servers rely on the
	// connection's keepalives alone.
	if _, err := conn.Exec(ctx, `SELECT set_config('idle_session_timeout', $1, false)`,
		strconv.FormatInt(db.leadIdle.Milliseconds(), 10)); err != nil {
		db.log.WithField("error", err.Error()).Debug("lead: the server does not end silent sessions")
	}
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
			return fmt.Errorf("try lock: %w", err)
		}
		if got {
			log.Info("lead: this node leads")
			return db.runLeading(ctx, conn, fn)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(db.leadEvery):
		}
	}
}

// runLeading runs fn, checking every leadEvery that the lock's
// connection is alive, and ends fn's context as soon as it is not.
func (db *DB) runLeading(ctx context.Context, conn *pgx.Conn, fn func(ctx context.Context) error) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(lctx) }()
	t := time.NewTicker(db.leadEvery)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, db.leadEvery)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				cancel()
				<-done
				return fmt.Errorf("lock connection: %w", err)
			}
		}
	}
}
