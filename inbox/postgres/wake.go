package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
)

// Nodes wake each other through LISTEN/NOTIFY: every transaction that
// makes outbox rows due (an accept batch queueing forwards, a replay, a
// retry due at once, a release) sends a notification on the engine's
// channel as part of it, which PostgreSQL delivers to every listener once
// it commits. Each node listens on a connection of its own and turns
// notifications into a signal on Wake.

// relistenAfter is how long the listener waits before connecting again
// after losing its connection.
const relistenAfter = time.Second

// channelName is the notification channel for the tables in schema.
// Channel names are identifiers, at most 63 bytes: a long schema name is
// replaced by its hash.
func channelName(schema string) string {
	name := "porch_outbox_" + schema
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	return "porch_outbox_" + hex.EncodeToString(sum[:16])
}

// notifySQL, run in a transaction, wakes every node once it commits.
const notifySQL = `SELECT pg_notify($1, '')`

// Wake returns a channel that receives after outbox rows became due on
// any node. It holds at most one pending signal; receivers Claim again.
func (db *DB) Wake() <-chan struct{} { return db.wake }

func (db *DB) signalWake() {
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// listen feeds Wake from the channel until Close, connecting again
// whenever the connection is lost. Each time it (re)connects it signals
// once: notifications sent while it was away are lost, and the
// dispatcher must look for itself.
func (db *DB) listen() {
	defer db.wg.Done()
	for {
		err := db.listenOnce(db.ctx)
		if db.ctx.Err() != nil {
			return
		}
		db.log.WithField("error", err.Error()).Warn("outbox listener lost its connection; connecting again")
		select {
		case <-db.ctx.Done():
			return
		case <-time.After(relistenAfter):
		}
	}
}

// listenOnce listens on one connection until it fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context) error {
	conn, err := db.dedicatedConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	db.signalWake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		db.signalWake()
	}
}

// dedicatedConn opens a connection outside the pool, configured as the
// pool's are, for a session that must outlive any one query: a listener,
// or an advisory lock. Such a session sits idle for long, so both ends
// probe it with TCP keepalives (settings the URL names win): a peer that
// vanished without closing (a dead host, a cut network) is noticed
// within about half a minute, not the system's default two hours, and
// the server then ends the session and releases its locks.
func (db *DB) dedicatedConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := db.pool.Config().ConnConfig.Copy()
	for k, v := range sessionKeepalives {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3}}
	cfg.DialFunc = d.DialContext
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

// sessionKeepalives are the server's side of dedicatedConn's probes
// (seconds, and milliseconds for tcp_user_timeout); sessions over a Unix
// socket ignore them.
var sessionKeepalives = map[string]string{
	"tcp_keepalives_idle":     "5",
	"tcp_keepalives_interval": "5",
	"tcp_keepalives_count":    "3",
	"tcp_user_timeout":        "20000",
}
