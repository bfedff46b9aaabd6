package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/postgres"
)

// The PostgreSQL engine takes deliveries as the Badger store does, so
// serve can hand either to the gateway once the rest of porch runs on it.
var (
	_ gateway.Store = (*postgres.DB)(nil)
	_ gateway.Store = (*inbox.DB)(nil)
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

// errPostgresNotServed is why porch serve refuses store.backend: postgres
// for now: forwarding, retention and the admin archive still run on the
// embedded store only, and a gateway that took deliveries it could not
// forward would be worse than none.
var errPostgresNotServed = errors.New("store.backend: postgres is not yet served by porch serve; run porch migrate to prepare a database")

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

// servable reports whether porch serve can run on the configured store.
func (c *Config) servable() error {
	if c.Store.Backend == backendPostgres {
		return errPostgresNotServed
	}
	return nil
}

// checkTimeout bounds check-config's look at the database.
const checkTimeout = 10 * time.Second

// reportStore tells check-config's reader whether the configured
// PostgreSQL database is reachable and its schema current; it reports
// false when it is unreachable. The embedded store needs no check.
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
	default:
		fmt.Fprintf(w, "store: postgres database %s is reachable; schema version %d, this porch needs %d: run porch migrate\n", at, st.Current, st.Latest)
	}
	fmt.Fprintf(w, "note: %v\n", errPostgresNotServed)
	return true
}
