package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/porchgw/porch/inbox"
	inboxbadger "github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/inbox/postgres"
)

// Both engines are whole stores: serve runs on either.
var (
	_ inbox.Store = (*postgres.DB)(nil)
	_ inbox.Store = (*inboxbadger.DB)(nil)
)

// Store backends accepted in store.backend.
const (
	backendBadger   = "badger"
	backendPostgres = "postgres"
)

// StoreConfig picks the store engine: the embedded Badger store in
// data_dir (the default), or a PostgreSQL database several nodes share.
type StoreConfig struct {
	Backend string `yaml:"backend"` // badger | postgres
	URL     string `yaml:"url"`     // postgres only: libpq URL or key=value
}

func (c *Config) validateStore(p *problems) {
	s := c.Store
	checkOneOf(p, "store.backend", s.Backend, backendBadger, backendPostgres)
	switch {
	case s.Backend == backendPostgres && s.URL == "":
		if ref, ok := c.origins["store.url"]; ok {
			p.add("store.url", "empty after expanding %s; required with store.backend: postgres", ref)
			return
		}
		p.add("store.url", "required with store.backend: postgres")
	case s.Backend == backendPostgres:
		if err := postgres.ParseURL(s.URL); err != nil {
			p.add("store.url", "%v", err)
		}
	case s.URL != "":
		p.add("store.url", "only used with store.backend: postgres")
	}
}

// checkTimeout bounds check-config's look at the database.
const checkTimeout = 10 * time.Second

// reportStore tells check-config's reader whether the configured
// PostgreSQL database is reachable and its schema current; it reports
// false when serve could not use it: unreachable, or a schema newer than
// this porch's. The embedded store needs no check.
func reportStore(ctx context.Context, c *Config, w io.Writer) bool {
	if c.Store.Backend != backendPostgres {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	at := postgres.MaskURL(c.Store.URL)
	st, err := postgres.Check(ctx, c.Store.URL)
	switch {
	case err != nil:
		fmt.Fprintf(w, "store: postgres database %s is unreachable: %v\n", at, err)
		return false
	case st.UpToDate():
		fmt.Fprintf(w, "store: postgres database %s is reachable; schema version %d is current\n", at, st.Current)
	case st.Current > st.Latest:
		fmt.Fprintf(w, "store: postgres database %s is reachable; schema version %d is newer than this porch's (%d): upgrade porch\n", at, st.Current, st.Latest)
		return false
	default:
		fmt.Fprintf(w, "store: postgres database %s is reachable; schema version %d, this porch needs %d: porch serve applies it at start, or run porch migrate first\n", at, st.Current, st.Latest)
	}
	return true
}

// openTimeout bounds connecting to the database and migrating its schema
// at start.
const openTimeout = 30 * time.Second

// openStore opens the configured engine: the embedded store in data_dir,
// or the PostgreSQL database (migrated to this porch's schema first).
func openStore(c *Config, log logrus.FieldLogger) (inbox.Store, error) {
	if c.Store.Backend == backendPostgres {
		release, err := lockDir(c.DataDir)
		if err != nil {
			return nil, dataDirError(c.DataDir, err, "give each node its own data_dir")
		}
		ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
		defer cancel()
		db, err := postgres.Open(ctx, c.Store.URL, postgres.Options{
			DedupWindow: c.Dedup.Window, Retention: c.Archive.Retention,
			RejectedLogSize: c.Archive.RejectedLogSize, RejectedLogBytes: c.Archive.RejectedLogBytes,
			TrailLogSize: c.Archive.AccessTrailSize, TrailSearchSize: c.Archive.AccessTrailSearchSize,
			Logger: log,
		})
		if err != nil {
			release()
			return nil, err
		}
		return &lockedStore{Store: db, release: release}, nil
	}
	db, err := inboxbadger.Open(inboxbadger.Options{
		Dir: c.DataDir, DedupWindow: c.Dedup.Window, MaxBodyBytes: int(c.Limits.MaxBodyBytes),
		RejectedLogSize: c.Archive.RejectedLogSize, RejectedLogBytes: c.Archive.RejectedLogBytes,
		TrailLogSize: c.Archive.AccessTrailSize, TrailSearchSize: c.Archive.AccessTrailSearchSize,
		MinFreeBytes: orOff(c.Limits.MinFreeBytes), Retention: c.Archive.Retention, Logger: log,
	})
	if err != nil {
		return nil, dataDirError(c.DataDir, err, "stop it first, or give this config its own data_dir")
	}
	return db, nil
}

// lockedStore is a store that holds data_dir's lock until it is closed.
type lockedStore struct {
	inbox.Store
	release func()
}

func (s *lockedStore) Close() error {
	defer s.release()
	return s.Store.Close()
}
