package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles are the schema's migrations, NNNN_name.sql, applied in
// version order, each in its own transaction. A released file is never
// edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the advisory lock key held while migrations run, so
// nodes starting together apply each migration once.
const migrateLock int64 = 0x706f7263686d6967 // "porchmig"

// The table recording applied migrations.
const createVersions = `CREATE TABLE IF NOT EXISTS porch_schema (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// SchemaVersion is the schema version this build of porch serves.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies pending migrations under the advisory lock and returns
// the schema version it found once it held the lock: when several nodes
// start at once, only the one that applied migrations finds them missing.
// A database newer than this build is refused: its schema is not one
// porch knows.
func migrate(ctx context.Context, pool *pgxpool.Pool) (from int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, fmt.Errorf("read migrations: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return 0, fmt.Errorf("migrate: take lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
	if _, err := conn.Exec(ctx, createVersions); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	cur, err := currentVersion(ctx, conn.Conn())
	if err != nil {
		return 0, err
	}
	if latest := ms[len(ms)-1].version; cur > latest {
		return cur, fmt.Errorf("database schema version %d is newer than this porch's (%d): upgrade porch", cur, latest)
	}
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return cur, err
		}
	}
	return cur, nil
}

func currentVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	var v int
	err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM porch_schema").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// apply runs one migration and records it, in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO porch_schema (version, name) VALUES ($1, $2)", m.version, m.name)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	return nil
}

// Migrate applies pending migrations to the database at url without
// starting an engine, for `porch migrate`. It returns the schema version
// before and after.
func Migrate(ctx context.Context, url string) (from, to int, err error) {
	pool, err := newPool(ctx, url, 2)
	if err != nil {
		return 0, 0, err
	}
	defer pool.Close()
	from, err = migrate(ctx, pool)
	if err != nil {
		return from, 0, fmt.Errorf("migrate %s: %w", MaskURL(url), maskErr(err, url))
	}
	return from, SchemaVersion(), nil
}

// Status says where a database's schema stands.
type Status struct {
	Current int // the newest migration applied; 0 for an empty database
	Latest  int // the newest migration this build carries
}

// UpToDate reports whether the schema is the one this build serves.
func (s Status) UpToDate() bool { return s.Current == s.Latest }

// Check connects to the database at url and reports its schema status,
// changing nothing: for `porch check-config`.
func Check(ctx context.Context, url string) (Status, error) {
	pool, err := newPool(ctx, url, 1)
	if err != nil {
		return Status{}, err
	}
	defer pool.Close()
	st, err := status(ctx, pool)
	return st, maskErr(err, url)
}

func status(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	st := Status{Latest: SchemaVersion()}
	var exists bool
	err := pool.QueryRow(ctx, "SELECT to_regclass('porch_schema') IS NOT NULL").Scan(&exists)
	if err != nil || !exists {
		return st, err
	}
	err = pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM porch_schema").Scan(&st.Current)
	if err != nil {
		return st, fmt.Errorf("read schema version: %w", err)
	}
	return st, nil
}
