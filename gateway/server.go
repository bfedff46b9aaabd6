package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// Store is where accepted deliveries go. Accept must have made the
// outcome durable when it returns nil, and wrap inbox.ErrNotDurable or
// inbox.ErrClosed when it could not. It is called concurrently.
type Store interface {
	Accept(ctx context.Context, ev *inbox.Event) (inbox.Result, error)
}

// Journal records requests that were not archived as authentic. It must
// not block.
type Journal interface {
	LogRejection(inbox.Rejection)
}

// Source is one configured ingest route, POST /in/{Name}.
type Source struct {
	Name     string
	Provider string // a name in the provider registry
	ProviderConfig
	Ingress SourceIngress // allowlist and rate limit (ingress.go)
}

// Config configures the ingest listener.
type Config struct {
	Listen            string
	MaxBodyBytes      int64
	AckTimeout        time.Duration // answer 503 if the delivery is not durable by then
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	ShutdownTimeout   time.Duration
	// MaxInflightBytes bounds the request bodies held in memory at once,
	// across all requests, so a crowd of large or slow uploads cannot
	// exhaust memory before any signature is checked. Bodies take room as
	// their bytes arrive; a delivery that finds none cuts uploads still
	// arriving that started before it, and failing that waits up to
	// AckTimeout, then gets 503.
	MaxInflightBytes int64
	// MaxConnsPerClient bounds the connections one client address holds
	// open at once (connlimit.go); more are closed on accept. Trusted
	// proxies are exempt. 0 is unlimited.
	MaxConnsPerClient int
	Sources           []Source
	// Route names the destinations an accepted event of source and type
	// is queued for. Nil queues none.
	Route func(source, eventType string) []string
	// Ready reports whether the store takes deliveries. Nil means always.
	Ready func() error
	Now   func() time.Time

	// Edge operations (ingress.go, tls.go, metrics.go).
	TrustedProxies []string      // proxies whose X-Forwarded-For is believed
	TLS            *TLSConfig    // nil serves plain HTTP
	Observe        func(Outcome) // called once per ingest request; nil: nobody
}

// DefaultConfig returns the listener settings a zero field takes: New
// fills zero fields from it, and a config file loader starts from it.
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:8080",
		MaxBodyBytes:      1 << 20,
		AckTimeout:        3 * time.Second,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ShutdownTimeout:   15 * time.Second,
		MaxInflightBytes:  32 << 20,
	}
}

func (c *Config) setDefaults() {
	def := DefaultConfig()
	if c.Listen == "" {
		c.Listen = def.Listen
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = def.MaxBodyBytes
	}
	c.AckTimeout = orDefault(c.AckTimeout, def.AckTimeout)
	c.ReadHeaderTimeout = orDefault(c.ReadHeaderTimeout, def.ReadHeaderTimeout)
	c.ReadTimeout = orDefault(c.ReadTimeout, def.ReadTimeout)
	c.WriteTimeout = orDefault(c.WriteTimeout, def.WriteTimeout)
	c.IdleTimeout = orDefault(c.IdleTimeout, def.IdleTimeout)
	c.ShutdownTimeout = orDefault(c.ShutdownTimeout, def.ShutdownTimeout)
	if c.MaxInflightBytes < c.MaxBodyBytes {
		c.MaxInflightBytes = max(def.MaxInflightBytes, c.MaxBodyBytes)
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = def.MaxHeaderBytes
	}
	if c.Route == nil {
		c.Route = func(string, string) []string { return nil }
	}
	if c.Ready == nil {
		c.Ready = func() error { return nil }
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// source is a Source ready to verify deliveries.
type source struct {
	Source
	def      Definition
	provider Provider
	guard    *guard
}

// Server is the public ingest listener.
type Server struct {
	cfg     Config
	store   Store
	journal Journal
	log     logrus.FieldLogger
	sources atomic.Pointer[map[string]*source]
	trusted atomic.Pointer[[]netip.Prefix]
	route   atomic.Pointer[routeFunc]
	bodies  *budget // bytes of request bodies in memory (budget.go)
	// refusalLog samples log lines about refused requests.
	refusalLog *rate.Limiter
	hostile    hostileCounters
	srv        *http.Server
	ln         *httpserve.Listener
}

// New validates cfg and builds a Server; Open binds it.
func New(cfg Config, store Store, journal Journal, log logrus.FieldLogger) (*Server, error) {
	cfg.setDefaults()
	if log == nil {
		log = httpserve.DiscardLogger()
	}
	s := &Server{cfg: cfg, store: store, journal: journal, log: log.WithField("component", "gateway"),
		bodies: newBudget(cfg.MaxInflightBytes), refusalLog: rate.NewLimiter(10, 50)}
	if err := s.SetSources(cfg.Sources); err != nil {
		return nil, err
	}
	tlsConfig, err := s.setupEdge()
	if err != nil {
		return nil, err
	}
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          httpserve.ErrorLog(s.log),
		TLSConfig:         tlsConfig,
	}
	s.ln = httpserve.NewListener(s.srv, cfg.Listen, cfg.ShutdownTimeout, s.log, s.limitConns)
	return s, nil
}

// Open binds the listener (":0" picks a free port; see Addr).
func (s *Server) Open() error { return s.ln.Open() }

// Addr is the bound address, after Open.
func (s *Server) Addr() string { return s.ln.Addr() }

// Serve answers requests until ctx ends, then stops taking new ones and
// waits up to Config.ShutdownTimeout for in-flight requests to finish.
func (s *Server) Serve(ctx context.Context) error { return s.ln.Serve(ctx) }

// SetSources swaps the source table atomically: requests already verifying
// finish with the table they started with.
func (s *Server) SetSources(srcs []Source) error {
	table := make(map[string]*source, len(srcs))
	for _, src := range srcs {
		def, ok := Lookup(src.Provider)
		if !ok {
			return fmt.Errorf("source %s: unknown provider %q", src.Name, src.Provider)
		}
		p, err := def.New(src.ProviderConfig)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name, err)
		}
		if _, dup := table[src.Name]; dup {
			return fmt.Errorf("source %s: defined twice", src.Name)
		}
		g, err := newGuard(src.Ingress, s.prevGuard(src.Name))
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name, err)
		}
		table[src.Name] = &source{Source: src, def: def, provider: p, guard: g}
	}
	s.sources.Store(&table)
	return nil
}

func (s *Server) source(name string) (*source, bool) {
	src, ok := (*s.sources.Load())[name]
	return src, ok
}

// Handler is the ingest listener's HTTP handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.srv.Handler }
