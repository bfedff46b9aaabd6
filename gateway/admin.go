package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// Archive is what the admin listener reads. Methods return errors
// wrapping inbox.ErrNotFound for unknown ids, and are called concurrently.
type Archive interface {
	Event(id string) (*inbox.Event, error)
	Body(id string) ([]byte, error)
	Sightings(id string) (inbox.Sightings, error)
	Deliveries(id string) ([]inbox.DeliveryState, error)
	Rejections(before uint64, limit int) ([]inbox.Rejection, error)
}

// AdminConfig configures the private admin listener.
type AdminConfig struct {
	Listen          string
	AdminTokens     []string
	AuditorTokens   []string
	ShutdownTimeout time.Duration
	// Metrics serves /metrics without auth; nil leaves the route out.
	Metrics http.Handler
	// Reload re-reads and applies the config (POST /api/v1/reload, admin
	// role); nil leaves the route out. See admin_reload.go.
	Reload ReloadFunc
	// Backup streams an online backup of the store (GET /api/v1/backup,
	// admin role); nil leaves the route out. See admin_backup.go.
	Backup func(w io.Writer) error
}

// Admin is the private listener: archive API and pages, admin actions,
// metrics. Every route but /metrics and the health checks needs a token.
type Admin struct {
	cfg     AdminConfig
	archive Archive
	log     logrus.FieldLogger
	tokens  atomic.Pointer[tokens]
	ln      net.Listener
	http    *http.Server
}

// NewAdmin builds the admin listener; Open binds it.
func NewAdmin(cfg AdminConfig, archive Archive, log logrus.FieldLogger) (*Admin, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8081"
	}
	cfg.ShutdownTimeout = orDefault(cfg.ShutdownTimeout, 15*time.Second)
	if log == nil {
		log = discardLogger()
	}
	a := &Admin{cfg: cfg, archive: archive, log: log.WithField("component", "admin")}
	if err := a.SetTokens(cfg.AdminTokens, cfg.AuditorTokens); err != nil {
		return nil, err
	}
	a.http = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          newStdLogger(a.log),
	}
	return a, nil
}

// SetTokens swaps the token lists atomically.
func (a *Admin) SetTokens(admin, auditor []string) error {
	for _, t := range append(append([]string(nil), admin...), auditor...) {
		if t == "" {
			return fmt.Errorf("admin listener: empty token")
		}
	}
	a.tokens.Store(newTokens(admin, auditor))
	return nil
}

// Open binds the listener.
func (a *Admin) Open() error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	a.ln = ln
	return nil
}

// Addr is the bound address, after Open.
func (a *Admin) Addr() string { return a.ln.Addr().String() }

// Serve answers until ctx ends, then shuts down gracefully.
func (a *Admin) Serve(ctx context.Context) error {
	return serveUntil(ctx, a.http, a.ln, a.cfg.ShutdownTimeout, a.log)
}
