package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"syscall"

	"github.com/porchgw/porch/admin"
	"github.com/sirupsen/logrus"
)

// Live reload: on SIGHUP or POST /api/v1/reload the config file is read
// again and, only if it validates both on its own and as the combination
// that will run (restart-only keys at their running values), what can
// change live is swapped atomically: sources and their secrets,
// allowlists and rate limits, trusted proxies, admin tokens and the log
// level, plus whatever a ReloadHook claims (destinations, enrichment).
// Everything else keeps its running value and is reported as needing a
// restart. A refused config changes nothing.

// Keys a ReloadHook may claim. Until a hook claims them they are
// restart-only: routing events to a destination no forwarder serves would
// strand them in the outbox.
const (
	KeyDestinations = "destinations"
	KeyEnrich       = "sources[].enrich"
	KeyReconcile    = "sources[].reconcile"
)

// ReloadHook applies the live parts of a new config that belong to
// another component (forwarders, enrichment). Apply must change nothing
// when it returns an error; it runs before routing is swapped, so a
// destination exists before events are routed to it.
type ReloadHook struct {
	Keys  []string // the keys it makes live: KeyDestinations, KeyEnrich, KeyReconcile
	Apply func(next *Config) error
}

// setting is one part of the config, by YAML key: how to read it, and how
// to put the running value back into a config that must not change it.
type setting struct {
	key  string
	get  func(*Config) any
	keep func(merged, running *Config)
}

// restartOnly are the settings that never change while running.
var restartOnly = []setting{
	{"listen", func(c *Config) any { return c.Listen }, func(m, r *Config) { m.Listen = r.Listen }},
	{"admin_listen", func(c *Config) any { return c.AdminListen }, func(m, r *Config) { m.AdminListen = r.AdminListen }},
	{"data_dir", func(c *Config) any { return c.DataDir }, func(m, r *Config) { m.DataDir = r.DataDir }},
	{"store", func(c *Config) any { return c.Store }, func(m, r *Config) { m.Store = r.Store }},
	{"log.format", func(c *Config) any { return c.Log.Format }, func(m, r *Config) { m.Log.Format = r.Log.Format }},
	{"tls", tlsInUse, func(m, r *Config) { m.TLS = r.TLS }},
	{"limits", func(c *Config) any { return c.Limits }, func(m, r *Config) { m.Limits = r.Limits }},
	{"dedup", func(c *Config) any { return c.Dedup }, func(m, r *Config) { m.Dedup = r.Dedup }},
	{"archive", func(c *Config) any { return c.Archive }, func(m, r *Config) { m.Archive = r.Archive }},
	{"auth.rate_limit", func(c *Config) any { return c.Auth.RateLimit }, func(m, r *Config) { m.Auth.RateLimit = r.Auth.RateLimit }},
}

// tlsInUse is the part of the tls block the ingest listener uses: none
// without TLS, no acme block without ACME. The ACME cache directory is
// derived from data_dir, and a part nothing uses must not read as
// changed when only data_dir did.
func tlsInUse(c *Config) any {
	t := c.TLS
	if !t.ACME.Enabled() {
		t.ACME = ACMEConfig{}
	}
	if !t.Enabled() {
		return nil
	}
	return t
}

// hookable are restart-only unless a ReloadHook claims them.
var hookable = []setting{
	{KeyDestinations, func(c *Config) any { return c.Destinations }, func(m, r *Config) { m.Destinations = r.Destinations }},
	{KeyEnrich, perSource(func(s Source) *EnrichConfig { return s.Enrich }), keepPerSource(func(m *Source, r Source) { m.Enrich = r.Enrich })},
	{KeyReconcile, perSource(func(s Source) *ReconcileConfig { return s.Reconcile }), keepPerSource(func(m *Source, r Source) { m.Reconcile = r.Reconcile })},
}

// perSource maps the name of each source that has the block to the
// block. Sources without one are left out: adding, removing or renaming
// them changes no enrichment, so it must not read as a difference.
func perSource[T any](get func(Source) *T) func(*Config) any {
	return func(c *Config) any {
		out := map[string]*T{}
		for _, s := range c.Sources {
			if b := get(s); b != nil {
				out[s.Name] = b
			}
		}
		return out
	}
}

// keepPerSource copies the running part into same-named sources; a new
// source gets the zero value (nothing runs it until a restart).
func keepPerSource(set func(m *Source, r Source)) func(m, r *Config) {
	return func(m, r *Config) {
		m.Sources = append([]Source(nil), m.Sources...)
		for i := range m.Sources {
			run, _ := r.source(m.Sources[i].Name)
			set(&m.Sources[i], run)
		}
	}
}

// restartRequired names the keys that differ but cannot change live
// (given the keys hooks claim), and returns next with those keys put back
// to their running values and the defaults derived from them derived
// again, so that a koji source's default max_body_age follows the
// dedup.window that keeps running, not the one the file asks for.
func restartRequired(running, next *Config, claimed map[string]bool) ([]string, *Config) {
	merged := *next
	merged.Sources = slices.Clone(next.Sources) // fillDerived writes into them
	keys := []string{}
	for _, st := range append(append([]setting(nil), restartOnly...), hookable...) {
		if claimed[st.key] || reflect.DeepEqual(st.get(running), st.get(next)) {
			continue
		}
		keys = append(keys, st.key)
		st.keep(&merged, running)
	}
	merged.fillDerived()
	return keys, &merged
}

// withRunning explains a failure of the merged config: the file passed on
// its own, so the conflict is with the running values of keys.
func withRunning(keys []string, err error) error {
	if len(keys) == 0 {
		return err
	}
	return fmt.Errorf("the file is valid on its own, but not with the running values of %s (they change only on restart): %w",
		strings.Join(keys, ", "), err)
}

func (m *Main) claimedKeys() map[string]bool {
	claimed := map[string]bool{}
	for _, h := range m.ReloadHooks {
		for _, k := range h.Keys {
			claimed[k] = true
		}
	}
	return claimed
}

// Reload re-reads m.ConfigPath and applies it. A config that does not
// load or validate is refused with an error wrapping
// admin.ErrInvalidConfig, and the running config keeps serving.
func (m *Main) Reload(ctx context.Context) (admin.ReloadResult, error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	res, err := m.reload()
	if m.Metrics != nil {
		m.Metrics.ObserveReload(err == nil)
	}
	if err != nil {
		m.Log.WithError(err).Error("config reload refused; running config kept")
		return res, err
	}
	m.Log.WithField("restart_required", res.RestartRequired).Info("config reloaded")
	return res, nil
}

func (m *Main) reload() (admin.ReloadResult, error) {
	if m.ConfigPath == "" {
		return admin.ReloadResult{}, fmt.Errorf("%w: no config file to reload", admin.ErrInvalidConfig)
	}
	next, err := LoadConfig(m.ConfigPath)
	if err != nil {
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrInvalidConfig, err)
	}
	keys, merged := restartRequired(m.Config, next, m.claimedKeys())
	if err := merged.Validate(); err != nil {
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrInvalidConfig, withRunning(keys, err))
	}
	if err := merged.DevSecretsError(); err != nil && !m.AllowDevSecrets {
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrInvalidConfig, err)
	}
	// The file as written is what the next start runs, restart-only keys
	// included: refuse now what serve would refuse then.
	startErrs := hostProblems(next, true)
	if err := next.DevSecretsError(); err != nil && !m.AllowDevSecrets {
		startErrs = append(startErrs, err)
	}
	if len(startErrs) > 0 {
		return admin.ReloadResult{}, fmt.Errorf("%w: porch serve would refuse to start on this file: %w", admin.ErrInvalidConfig, errors.Join(startErrs...))
	}
	if err := m.apply(merged); err != nil {
		if rerr := m.apply(m.Config); rerr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", rerr))
		}
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrInvalidConfig, err)
	}
	m.Config = merged
	return admin.ReloadResult{RestartRequired: keys}, nil
}

// apply swaps every live setting to cfg's values.
func (m *Main) apply(cfg *Config) error {
	gc := (&Main{Config: cfg, DB: m.DB, Metrics: m.Metrics}).gatewayConfig()
	if err := m.Gateway.SetSources(gc.Sources); err != nil {
		return err
	}
	if err := m.Gateway.SetTrustedProxies(gc.TrustedProxies); err != nil {
		return err
	}
	if err := m.Admin.SetTokens(cfg.Auth.AdminTokens, cfg.Auth.AuditorTokens); err != nil {
		return err
	}
	for _, hook := range m.ReloadHooks {
		if err := hook.Apply(cfg); err != nil {
			return err
		}
	}
	m.Gateway.SetRoute(gc.Route)
	if lv, err := logrus.ParseLevel(cfg.Log.Level); err == nil {
		m.Log.SetLevel(lv)
	}
	if m.Metrics != nil {
		m.publishConfigured(cfg)
	}
	return nil
}

// notifyHUP starts catching SIGHUP (so it no longer ends the process);
// watchReload consumes it. The channel holds one signal, so any number
// that arrive before watchReload runs come out as one reload.
func notifyHUP() chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch
}

// watchReload reloads on every SIGHUP until ctx ends, first for one that
// arrived during startup: the file may have changed after it was read.
func (m *Main) watchReload(ctx context.Context) error {
	if m.hup == nil {
		return nil
	}
	defer signal.Stop(m.hup)
	select {
	case <-m.hup:
		m.Log.Info("SIGHUP arrived during startup: reloading config now that porch is serving")
		_, _ = m.Reload(ctx)
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.hup:
			m.Log.Info("SIGHUP: reloading config")
			_, _ = m.Reload(ctx) // logged by Reload; a refused config changes nothing
		}
	}
}
