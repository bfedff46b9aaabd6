package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// OutboxStats reports the backlog per destination, every node's alike.
// Oldest comes from the oldest pending event's time-ordered id.
// Destinations with nothing pending are absent.
func (db *DB) OutboxStats() (map[string]inbox.OutboxStat, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT destination, count(*), min(event_id) FROM outbox GROUP BY destination`)
	if err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	out := make(map[string]inbox.OutboxStat)
	var dest, oldest string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&dest, &n, &oldest}, func() error {
		out[dest] = inbox.OutboxStat{Depth: n, Oldest: inbox.IDTime(oldest)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox stats: %w", err)
	}
	return out, nil
}

// DiskSize is the bytes the whole database takes (pg_database_size),
// whatever else it holds besides porch's tables.
func (db *DB) DiskSize() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		return 0, fmt.Errorf("disk size: %w", err)
	}
	return n, nil
}

// FreeBytes is unknown to a client of the database: its disk is the
// server's. It returns an error wrapping inbox.ErrUnsupported.
func (db *DB) FreeBytes() (int64, error) {
	return 0, fmt.Errorf("free bytes: the database server's disk is watched on the server: %w", inbox.ErrUnsupported)
}

// errBackup says how a PostgreSQL store is backed up.
var errBackup = errors.New("back up the database with pg_dump, e.g. " +
	"pg_dump --format=custom --no-owner --file=porch.dump <database url> (restore with pg_restore --no-owner), " +
	"or with the server's own physical backups (pg_basebackup, WAL archiving)")

// Backup does not write a backup: PostgreSQL's own tools make them. It
// returns an error wrapping inbox.ErrUnsupported that names them.
func (db *DB) Backup(io.Writer) error {
	return fmt.Errorf("%w: %w", errBackup, inbox.ErrUnsupported)
}
