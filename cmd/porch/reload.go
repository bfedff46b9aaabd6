package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"syscall"

	"github.com/porchgw/porch/gateway"
	"github.com/sirupsen/logrus"
)

// Live reload: on SIGHUP or POST /api/v1/reload the config file is read
// again and, only if it validates, what can change live is swapped
// atomically: sources and their secrets, allowlists and rate limits,
// trusted proxies, destination routing, admin tokens and the log level.
// Everything else keeps its running value and is reported as needing a
// restart. A refused config changes nothing.

// ReloadHook applies the live parts of next that belong to another
// component (forwarders, enrichment). It must not change anything when it
// returns an error.
type ReloadHook func(next *Config) error

// restartOnly lists the settings that cannot change while running, by YAML
// key, with how to read each from a Config.
var restartOnly = []struct {
	key string
	get func(*Config) any
}{
	{"listen", func(c *Config) any { return c.Listen }},
	{"admin_listen", func(c *Config) any { return c.AdminListen }},
	{"data_dir", func(c *Config) any { return c.DataDir }},
	{"log.format", func(c *Config) any { return c.Log.Format }},
	{"tls", func(c *Config) any { return c.TLS }},
	{"limits", func(c *Config) any { return c.Limits }},
	{"dedup", func(c *Config) any { return c.Dedup }},
	{"archive", func(c *Config) any { return c.Archive }},
}

// restartRequired names the restart-only keys that differ, and returns
// next with those keys put back to their running values.
func restartRequired(running, next *Config) ([]string, *Config) {
	merged := *next
	var keys []string
	for _, k := range restartOnly {
		if !reflect.DeepEqual(k.get(running), k.get(next)) {
			keys = append(keys, k.key)
		}
	}
	merged.Listen, merged.AdminListen, merged.DataDir = running.Listen, running.AdminListen, running.DataDir
	merged.Log.Format, merged.TLS, merged.Limits = running.Log.Format, running.TLS, running.Limits
	merged.Dedup, merged.Archive = running.Dedup, running.Archive
	return keys, &merged
}

// Reload re-reads m.ConfigPath and applies it. A config that does not
// load or validate is refused with an error wrapping
// gateway.ErrInvalidConfig, and the running config keeps serving.
func (m *Main) Reload(ctx context.Context) (gateway.ReloadResult, error) {
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

func (m *Main) reload() (gateway.ReloadResult, error) {
	if m.ConfigPath == "" {
		return gateway.ReloadResult{}, fmt.Errorf("%w: no config file to reload", gateway.ErrInvalidConfig)
	}
	next, err := LoadConfig(m.ConfigPath)
	if err != nil {
		return gateway.ReloadResult{}, fmt.Errorf("%w: %w", gateway.ErrInvalidConfig, err)
	}
	keys, merged := restartRequired(m.Config, next)
	if err := m.apply(merged); err != nil {
		if rerr := m.apply(m.Config); rerr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", rerr))
		}
		return gateway.ReloadResult{}, fmt.Errorf("%w: %w", gateway.ErrInvalidConfig, err)
	}
	m.Config = merged
	return gateway.ReloadResult{RestartRequired: keys}, nil
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
		if err := hook(cfg); err != nil {
			return err
		}
	}
	m.Gateway.SetRoute(gc.Route)
	if lv, err := logrus.ParseLevel(cfg.Log.Level); err == nil {
		m.Log.SetLevel(lv)
	}
	if m.Metrics != nil {
		m.publishDeadlines(cfg)
	}
	return nil
}

// notifyHUP starts catching SIGHUP (so it no longer ends the process);
// watchReload consumes it.
func notifyHUP() chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch
}

// watchReload reloads on every SIGHUP until ctx ends.
func (m *Main) watchReload(ctx context.Context) error {
	if m.hup == nil {
		return nil
	}
	defer signal.Stop(m.hup)
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
