package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/forward"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/metrics"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"
)

func init() {
	register("serve", "run the gateway: ingest listener, admin listener and forwarders", runServe)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Catch SIGHUP before anything slow: its default action ends the
	// process, and systemctl reload may send one while the store opens.
	// One that arrives before porch serves is applied once it does.
	hup := notifyHUP()
	defer signal.Stop(hup)
	fs := newFlags("serve", "--config FILE [--allow-dev-secrets]", stdout, stderr)
	cfgPath := configFlag(fs)
	allowDev := allowDevSecretsFlag(fs)
	cfg, code, ok := loadConfigFlag(fs, cfgPath, args)
	if !ok {
		return code
	}
	if err := cfg.DevSecretsError(); err != nil && !*allowDev {
		fmt.Fprintf(stderr, "porch serve: refusing to start: %v\n", err)
		return 2
	}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		fmt.Fprintf(stderr, "porch serve: %v\n", err)
		return 2
	}
	if errs := hostProblems(cfg, false); len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(stderr, "porch serve: refusing to start: %v\n", err)
		}
		return 1
	}
	if keys := cfg.PublicSecrets(); len(keys) > 0 {
		log.WithField("keys", keys).Warn("using the example's public development secrets: anyone can forge deliveries and read the archive; set the environment variables named in the config before exposing porch")
	}
	setMemoryLimit(cfg.Limits.MaxBodyBytes, log) // memlimit.go
	ctx, stop := signalContext(ctx, log)
	defer stop()
	m := &Main{Config: cfg, Log: log, ConfigPath: *cfgPath, AllowDevSecrets: *allowDev, hup: hup}
	if err := m.Open(); err != nil {
		log.WithError(err).Error("start failed")
		return 1
	}
	if err := m.Run(ctx); err != nil {
		log.WithError(err).Error("stopped with an error")
		return 1
	}
	log.Info("stopped")
	return 0
}

// signalContext ends ctx on the first SIGINT or SIGTERM, so the gateway
// drains; a second signal exits at once (nothing acknowledged is lost:
// it is all on disk already).
func signalContext(parent context.Context, log logrus.FieldLogger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			log.WithField("signal", s.String()).Info("draining; send the signal again to exit at once")
			cancel()
		case <-ctx.Done():
			return
		}
		s := <-sigs
		log.WithField("signal", s.String()).Warn("second signal: exiting now")
		os.Exit(1)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// Main is the running program: the store and the listeners built from one
// config. Open builds and binds everything; Run serves until ctx ends and
// then closes it all in order, the store last.
type Main struct {
	Config *Config
	Log    *logrus.Logger

	DB        inbox.Store
	ready     *readiness // the store's, as both /readyz report it
	Gateway   *gateway.Server
	Admin     *admin.Server
	Forwarder *forward.Dispatcher
	// Enricher is nil when no source has an enrich block; it runs in the
	// forwarder's Prepare step.
	Enricher    *enrich.Enricher
	Reconcilers []*enrich.Reconciler
	// reconciled names the source of each of Reconcilers, which on a
	// shared database one node at a time reconciles.
	reconciled []string

	// Edge operations (reload.go, metrics.go).
	ConfigPath string // re-read on SIGHUP and POST /api/v1/reload
	// AllowDevSecrets lets a config with the example's public secrets run
	// on a listener other hosts reach (serve --allow-dev-secrets); without
	// it a reload to such a config is refused, as serve refuses to start.
	AllowDevSecrets bool
	Metrics         *metrics.Registry // served at /metrics on the admin listener
	ReloadHooks     []ReloadHook      // other components' live reload
	reloadMu        sync.Mutex
	hup             chan os.Signal
}

// Open opens the store and binds both listeners. On error everything
// opened so far is closed again.
func (m *Main) Open() (err error) {
	if m.Log == nil {
		m.Log = logrus.New()
		m.Log.SetOutput(io.Discard)
	}
	if m.hup == nil {
		m.hup = notifyHUP() // caught from here on; Run applies one that came early
		defer func() {
			if err != nil {
				signal.Stop(m.hup)
			}
		}()
	}
	c := m.Config
	if m.DB, err = openStore(c, m.Log); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.DB.Close()
		}
	}()
	m.ready = &readiness{check: m.DB.Ready, log: m.Log}
	if err = m.openMetrics(); err != nil {
		return err
	}
	if err = m.openEnrich(); err != nil {
		return err
	}
	m.ReloadHooks = append(m.ReloadHooks, ReloadHook{Keys: []string{KeyDestinations}, Apply: m.reloadDestinations})
	if m.Forwarder, err = forward.New(m.forwardConfig(), m.DB, m.Metrics.SettlerWith(m.DB), m.Log); err != nil {
		return err
	}
	if m.Gateway, err = gateway.New(m.gatewayConfig(), m.DB, m.DB, m.Log); err != nil {
		return err
	}
	if m.Admin, err = admin.New(m.adminConfig(), m.DB, m.Log); err != nil {
		return err
	}
	if err = m.Gateway.Open(); err != nil {
		return err
	}
	if err = m.Admin.Open(); err != nil {
		return err
	}
	m.Log.WithFields(logrus.Fields{"listen": m.Gateway.Addr(), "admin_listen": m.Admin.Addr(), "data_dir": c.DataDir, "store": c.Store.Backend}).Info("porch started")
	return nil
}

// Run serves until ctx ends: the listeners stop taking requests and finish
// in-flight ones, the forwarders finish their attempts, then the store
// closes.
func (m *Main) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.Gateway.Serve(gctx) })
	g.Go(func() error { return m.Admin.Serve(gctx) })
	g.Go(func() error { return m.Forwarder.Run(gctx) })
	for i, r := range m.Reconcilers {
		g.Go(func() error { return m.DB.Lead(gctx, "reconcile "+m.reconciled[i], r.Run) })
	}
	g.Go(func() error { return m.watchReload(gctx) })
	err := g.Wait()
	if cerr := m.DB.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	return err
}

func (m *Main) gatewayConfig() gateway.Config {
	c := m.Config
	srcs := make([]gateway.Source, 0, len(c.Sources))
	for _, s := range c.Sources {
		srcs = append(srcs, gateway.Source{Name: s.Name, Provider: s.Provider, ProviderConfig: gateway.ProviderConfig{
			Secrets: s.Secrets, Tolerance: s.Tolerance, CanonicalFallback: s.CanonicalFallback, MaxBodyAge: s.MaxBodyAge,
		}, Ingress: sourceIngress(s)})
	}
	return gateway.Config{
		Listen: c.Listen, MaxBodyBytes: c.Limits.MaxBodyBytes, AckTimeout: c.Limits.AckTimeout,
		ReadHeaderTimeout: c.Limits.ReadHeaderTimeout, ReadTimeout: c.Limits.ReadTimeout,
		WriteTimeout: c.Limits.WriteTimeout, IdleTimeout: c.Limits.IdleTimeout,
		MaxHeaderBytes: c.Limits.MaxHeaderBytes, ShutdownTimeout: c.Limits.ShutdownTimeout,
		MaxInflightBytes: c.Limits.MaxInflightBytes, MaxConnsPerClient: c.Limits.MaxConnsPerClient,
		Sources: srcs, Ready: m.ready.Ready, Route: forward.Router(m.Config.forwardDestinations()),
		TrustedProxies: c.Ingress.TrustedProxies, TLS: gatewayTLS(c), Observe: m.observeDelivery(),
	}
}

func (m *Main) adminConfig() admin.Config {
	c := m.Config
	return admin.Config{
		Listen: c.AdminListen, AdminTokens: c.Auth.AdminTokens, AuditorTokens: c.Auth.AuditorTokens,
		ShutdownTimeout: c.Limits.ShutdownTimeout, ReadRate: adminRate(c.Auth.RateLimit.RPS), ReadBurst: c.Auth.RateLimit.Burst,
		DetailExtras: map[string]func(id string) (any, error){"enrichment": m.enrichmentOf},
		Metrics:      m.Metrics.Handler(), Ready: m.ready.Ready, Reload: m.Reload, Backup: m.DB.Backup,
		Destinations: m.Forwarder.Destinations,
	}
}

// enrichmentOf is the stored enrichment record of event id, nil when the
// event was not enriched: auditors see exactly what was forwarded.
func (m *Main) enrichmentOf(id string) (any, error) {
	r, err := m.DB.Enrichment(id)
	if errors.Is(err, inbox.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (m *Main) forwardConfig() forward.Config {
	cfg := forward.Config{Destinations: m.Config.forwardDestinations()}
	if m.Enricher != nil {
		cfg.Prepare = prepareFunc(m.Enricher)
	}
	return cfg
}

// orOff maps the config's "0 turns it off" onto inbox's negative.
func orOff(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// reloadDestinations swaps the forwarder's destinations; the reload then
// swaps the gateway's routing, so no event is routed to a destination
// before a forwarder serves it.
func (m *Main) reloadDestinations(next *Config) error {
	return m.Forwarder.SetDestinations(next.forwardDestinations())
}

// adminRate maps auth.rate_limit.rps (0 = off) onto AdminConfig.ReadRate
// (negative = off).
func adminRate(rps float64) float64 {
	if rps == 0 {
		return -1
	}
	return rps
}
