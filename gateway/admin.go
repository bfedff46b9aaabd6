package gateway

import (
	"context"
	"fmt"
	"io"
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

	// The archive browser (admin_archive.go).
	List(q inbox.Query) (inbox.Page, error)
	ExportMatching(ctx context.Context, q inbox.Query, fn func(inbox.Record) error) error
	Verify(ctx context.Context) (inbox.VerifyReport, error)
	LogAccess(a inbox.Access) error
	AccessTrail(before uint64, limit int) ([]inbox.Access, error)

	// Forwarding's records, shown by the archive pages.
	Attempts(id string) ([]inbox.Attempt, error)
	DeadLetters(f inbox.DeadLetterFilter) ([]inbox.DeadLetter, error)
	Replay(id, dest string, r inbox.ReplayRequest) ([]string, error)
	ReplayDead(f inbox.DeadLetterFilter, r inbox.ReplayRequest) (int, error)
}

// AdminConfig configures the private admin listener.
type AdminConfig struct {
	Listen          string
	AdminTokens     []string
	AuditorTokens   []string
	ShutdownTimeout time.Duration
	// Metrics serves /metrics without auth; nil leaves the route out.
	Metrics http.Handler
	// Ready reports whether the store takes deliveries, for /readyz
	// (without auth, as on the ingest listener). Nil means always.
	Ready func() error
	// Reload re-reads and applies the config (POST /api/v1/reload, admin
	// role); nil leaves the route out. See admin_reload.go.
	Reload ReloadFunc
	// Backup streams an online backup of the store (GET /api/v1/backup,
	// admin role); nil leaves the route out. See admin_backup.go.
	Backup func(w io.Writer) error
	// ReadRate is how many requests per second each token may make to the
	// archive API and pages (searches, page views, reads and actions), in
	// bursts of up to ReadBurst; beyond it the answer is 429 with
	// Retry-After. Default 10 per second, bursts of 100; negative turns
	// the limit off.
	ReadRate  float64
	ReadBurst int
	// Now is the rate limiter's clock. Default time.Now.
	Now func() time.Time
	// DetailExtras add named sections to an event's detail (API and
	// page), e.g. "enrichment". A nil result leaves the section out.
	DetailExtras map[string]func(id string) (any, error)
}

// Admin is the private listener: archive API and pages, admin actions,
// metrics. Every route but /metrics and the health checks needs a token.
type Admin struct {
	cfg     AdminConfig
	archive Archive
	log     logrus.FieldLogger
	tokens  atomic.Pointer[tokens]
	csrf    *csrfKeys
	limits  *tokenLimits // nil: no rate limit
	pages   *pages
	listener
}

// NewAdmin builds the admin listener; Open binds it.
func NewAdmin(cfg AdminConfig, archive Archive, log logrus.FieldLogger) (*Admin, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8081"
	}
	cfg.ShutdownTimeout = orDefault(cfg.ShutdownTimeout, 15*time.Second)
	if cfg.Ready == nil {
		cfg.Ready = func() error { return nil }
	}
	if log == nil {
		log = discardLogger()
	}
	a := &Admin{cfg: cfg, archive: archive, log: log.WithField("component", "admin"), csrf: newCSRFKeys(),
		limits: newTokenLimits(cfg.ReadRate, cfg.ReadBurst, cfg.Now)}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	a.pages = p
	if err := a.SetTokens(cfg.AdminTokens, cfg.AuditorTokens); err != nil {
		return nil, err
	}
	a.listener = listener{addr: cfg.Listen, grace: cfg.ShutdownTimeout, log: a.log}
	a.srv = &http.Server{
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
	a.limits.reset()
	return nil
}
