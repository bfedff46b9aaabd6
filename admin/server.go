package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/sirupsen/logrus"
)

// Config configures the private admin listener.
type Config struct {
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
	// role); nil leaves the route out. See reload.go.
	Reload ReloadFunc
	// Backup streams an online backup of the store (GET /api/v1/backup,
	// admin role); nil leaves the route out. See backup.go.
	Backup func(w io.Writer) error
	// ReadRate is how many requests per second each token may make to the
	// archive API and pages (searches, page views, reads and actions), in
	// bursts of up to ReadBurst; beyond it the answer is 429 with
	// Retry-After. Default 10 per second, bursts of 100; negative turns
	// the limit off.
	ReadRate  float64
	ReadBurst int
	// Now is the clock of the rate limiter and of abandon, which leaves
	// deliveries whose lease has not passed by then. Default time.Now.
	Now func() time.Time
	// DetailExtras add named sections to an event's detail (API and
	// page), e.g. "enrichment". A nil result leaves the section out.
	DetailExtras map[string]func(id string) (any, error)
	// Destinations returns the destinations this node forwards to now.
	// Replays leave out the others and say so, since nothing would
	// deliver them; abandon refuses these, whose deliveries are the
	// forwarder's. Nil means every destination.
	Destinations func() []string
}

// Server is the private listener: archive API and pages, admin actions,
// metrics. Every route but /metrics and the health checks needs a token.
type Server struct {
	cfg    Config
	log    logrus.FieldLogger
	tokens atomic.Pointer[tokens]
	limits *tokenLimits // nil: no rate limit
	base                // the access trail and the pages, which every handler shares
	// The handlers of each resource, holding only the store's methods
	// they call.
	events      eventRoutes
	search      searchRoutes
	verify      verifyRoutes
	trail       trailRoutes
	rejections  rejectionRoutes
	replay      replayRoutes
	deadLetters deadLetterRoutes
	abandon     abandonRoutes
	srv         *http.Server
	ln          *httpserve.Listener
}

// New builds the admin listener; Open binds it.
func New(cfg Config, archive Archive, log logrus.FieldLogger) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8081"
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.Ready == nil {
		cfg.Ready = func() error { return nil }
	}
	if log == nil {
		log = httpserve.DiscardLogger()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	b := base{auditor: archive, view: &view{pages: p, csrf: newCSRFKeys()}}
	a := &Server{cfg: cfg, log: log.WithField("component", "admin"), base: b,
		limits:      newTokenLimits(cfg.ReadRate, cfg.ReadBurst, cfg.Now),
		events:      eventRoutes{base: b, events: archive, history: archive, search: archive, extras: cfg.DetailExtras, destinations: cfg.Destinations},
		search:      searchRoutes{base: b, archive: archive},
		verify:      verifyRoutes{base: b, archive: archive},
		trail:       trailRoutes{base: b, reader: archive},
		rejections:  rejectionRoutes{base: b, log: archive},
		replay:      replayRoutes{base: b, events: archive, replayer: archive, destinations: cfg.Destinations},
		deadLetters: deadLetterRoutes{base: b, store: archive, backlog: archive, destinations: cfg.Destinations},
		abandon:     abandonRoutes{base: b, store: archive, destinations: cfg.Destinations, now: now},
	}
	if err := a.SetTokens(cfg.AdminTokens, cfg.AuditorTokens); err != nil {
		return nil, err
	}
	a.srv = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          httpserve.ErrorLog(a.log),
	}
	a.ln = httpserve.NewListener(a.srv, cfg.Listen, cfg.ShutdownTimeout, a.log, nil)
	return a, nil
}

// Open binds the listener (":0" picks a free port; see Addr).
func (a *Server) Open() error { return a.ln.Open() }

// Addr is the bound address, after Open.
func (a *Server) Addr() string { return a.ln.Addr() }

// Serve answers requests until ctx ends, then shuts down gracefully
// within Config.ShutdownTimeout.
func (a *Server) Serve(ctx context.Context) error { return a.ln.Serve(ctx) }

// SetTokens swaps the token lists atomically.
func (a *Server) SetTokens(admin, auditor []string) error {
	for _, t := range append(append([]string(nil), admin...), auditor...) {
		if t == "" {
			return fmt.Errorf("admin listener: empty token")
		}
	}
	a.tokens.Store(newTokens(admin, auditor))
	a.limits.reset()
	return nil
}
