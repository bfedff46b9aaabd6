package main

import (
	"context"
	"fmt"
	"io"

	"github.com/porchgw/porch/inbox/postgres"
)

func init() {
	register("migrate", "apply the PostgreSQL schema migrations of store.url, without serving", runMigrate)
}

// runMigrate applies pending migrations: exit 0 done (or nothing to do),
// 1 the database failed, 2 a bad flag or config.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("migrate", "--config FILE", stdout, stderr)
	path := configFlag(fs)
	cfg, code, ok := loadConfigFlag(fs, path, args)
	if !ok {
		return code
	}
	if cfg.Store.Backend != backendPostgres {
		fmt.Fprintf(stderr, "porch migrate: %s: store.backend is %s; migrations are for store.backend: postgres (the embedded store needs none)\n", *path, cfg.Store.Backend)
		return 2
	}
	at := postgres.MaskURL(cfg.Store.URL)
	from, to, err := postgres.Migrate(ctx, cfg.Store.URL)
	if err != nil {
		fmt.Fprintf(stderr, "porch migrate: database %s: %v\n", at, err)
		return 1
	}
	if from == to {
		fmt.Fprintf(stdout, "database %s: schema version %d is current; nothing to do\n", at, to)
		return 0
	}
	fmt.Fprintf(stdout, "database %s: schema migrated from version %d to %d\n", at, from, to)
	return 0
}
