package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/porchgw/porch/enrich"
	"github.com/porchgw/porch/forward"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
)

// maxBodyLimit is the largest allowed limits.max_body_bytes.
const maxBodyLimit = 64 << 20

// gatherAckDeadline is Gather's delivery deadline; ack_timeout must beat it.
func gatherAckDeadline() time.Duration {
	d, _ := gateway.Lookup(providerGather)
	return d.Deadline
}

// problems collects *ConfigError values during validation.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks every rule in the schema and returns all violations
// joined with errors.Join, each a *ConfigError naming its key path.
func (c *Config) Validate() error { return c.validate(true) }

// validateNoStore is Validate but for the store block.
func (c *Config) validateNoStore() error { return c.validate(false) }

func (c *Config) validate(store bool) error {
	var p problems
	c.validateTop(&p)
	if store {
		c.validateStore(&p)
	}
	c.validateTLS(&p)
	c.validateLimits(&p)
	c.validateSources(&p)
	c.validateDestinations(&p)
	c.validateAuth(&p)
	return errors.Join(p...)
}

func (c *Config) validateTop(p *problems) {
	checkHostPort(p, "listen", c.Listen)
	checkHostPort(p, "admin_listen", c.AdminListen)
	// Port 0 asks the kernel for a free port, so two ":0" never collide.
	if c.Listen == c.AdminListen && c.Listen != "" && !strings.HasSuffix(c.Listen, ":0") {
		p.add("admin_listen", "must differ from listen (%s)", c.Listen)
	}
	if c.DataDir == "" {
		p.add("data_dir", "required")
	}
	checkOneOf(p, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	checkOneOf(p, "log.format", c.Log.Format, "json", "text")
	checkIPNets(p, "ingress.trusted_proxies", c.Ingress.TrustedProxies)
}

// validateTLS maps the tls block onto gateway's, both ways of getting
// certificates at once if the file sets both, and reports what gateway's
// check finds under the block's keys.
func (c *Config) validateTLS(p *problems) {
	t := c.TLS
	if t.CertFile == "" && t.KeyFile == "" && !t.ACME.Enabled() {
		return // plain HTTP
	}
	g := gateway.TLSConfig{CertFile: t.CertFile, KeyFile: t.KeyFile}
	if a := t.ACME; a.Enabled() {
		g.ACME = &gateway.ACMEConfig{Domains: a.Domains, Email: a.Email, DirectoryURL: a.DirectoryURL, CacheDir: a.CacheDir}
	}
	c.addFieldErrors(p, "tls", unwrapOne(g.Validate()))
}

func (c *Config) validateLimits(p *problems) {
	l := c.Limits
	if l.MaxBodyBytes <= 0 || l.MaxBodyBytes > maxBodyLimit {
		p.add("limits.max_body_bytes", "must be between 1 and %d (64 MiB), got %d", maxBodyLimit, l.MaxBodyBytes)
	}
	if deadline := gatherAckDeadline(); l.AckTimeout <= 0 || l.AckTimeout >= deadline {
		p.add("limits.ack_timeout", "must be above 0 and below %s (Gather's delivery deadline), got %s", deadline, l.AckTimeout)
	}
	for _, f := range []struct {
		key string
		d   time.Duration
	}{
		{"limits.read_header_timeout", l.ReadHeaderTimeout}, {"limits.read_timeout", l.ReadTimeout},
		{"limits.write_timeout", l.WriteTimeout}, {"limits.idle_timeout", l.IdleTimeout},
		{"limits.shutdown_timeout", l.ShutdownTimeout}, {"dedup.window", c.Dedup.Window},
	} {
		checkPositive(p, f.key, f.d)
	}
	if l.MaxHeaderBytes <= 0 {
		p.add("limits.max_header_bytes", "must be above 0")
	}
	if l.MaxInflightBytes < l.MaxBodyBytes {
		p.add("limits.max_inflight_bytes", "must be at least limits.max_body_bytes (%d), got %d", l.MaxBodyBytes, l.MaxInflightBytes)
	}
	if l.MaxConnsPerClient < 0 {
		p.add("limits.max_conns_per_client", "must be 0 (unlimited) or above")
	}
	if l.MinFreeBytes < 0 {
		p.add("limits.min_free_bytes", "must be 0 or above")
	}
	if c.Archive.RejectedLogSize <= 0 {
		p.add("archive.rejected_log_size", "must be above 0")
	}
	if c.Archive.AccessTrailSize <= 0 {
		p.add("archive.access_trail_size", "must be above 0")
	}
	if c.Archive.AccessTrailSearchSize <= 0 {
		p.add("archive.access_trail_search_size", "must be above 0")
	}
	if c.Archive.RejectedLogBytes < inbox.MaxRejectionBytes {
		p.add("archive.rejected_log_bytes", "must be at least %d (one entry), got %d", inbox.MaxRejectionBytes, c.Archive.RejectedLogBytes)
	}
	c.validateRetention(p)
}

// validateRetention keeps payloads at least as long as a delivery may be
// pending and a dedup key remembered.
func (c *Config) validateRetention(p *problems) {
	r := c.Archive.Retention
	switch h := c.RetryHorizon(); {
	case r == 0:
	case r < 0:
		p.add("archive.retention", "must be 0 (keep forever) or positive")
	case r < h:
		p.add("archive.retention", "%s is shorter than the retry horizon %s (longest backoff a destination may spend before dead-lettering)", r, h)
	case r < c.Dedup.Window:
		p.add("archive.retention", "%s is shorter than dedup.window %s", r, c.Dedup.Window)
	}
}

func (c *Config) validateAuth(p *problems) {
	checkRate(p, "auth.rate_limit", c.Auth.RateLimit)
	admin := make(map[string]bool)
	for i, t := range c.Auth.AdminTokens {
		key := indexKey("auth.admin_tokens", i)
		checkSecret(p, c, key, t)
		admin[t] = t != ""
	}
	for i, t := range c.Auth.AuditorTokens {
		key := indexKey("auth.auditor_tokens", i)
		checkSecret(p, c, key, t)
		if admin[t] {
			p.add(key, "the same token is also in auth.admin_tokens")
		}
	}
}

// checkSecret rejects an empty secret, naming the variables it came from.
func checkSecret(p *problems, c *Config, key, v string) {
	if v != "" {
		return
	}
	if ref, ok := c.origins[key]; ok {
		p.add(key, "empty after expanding %s", ref)
		return
	}
	p.add(key, "must not be empty")
}

func checkPositive(p *problems, key string, d time.Duration) {
	if d <= 0 {
		p.add(key, "must be above 0, got %s", d)
	}
}

func checkOneOf(p *problems, key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.add(key, "%q is not one of %q", v, allowed)
}

func checkHostPort(p *problems, key, v string) {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.add(key, "%q is not host:port", v)
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		p.add(key, "%q has an invalid port", v)
	}
}

// checkIPNets accepts CIDRs and bare IP addresses.
func checkIPNets(p *problems, key string, list []string) {
	for i, v := range list {
		if _, err := netip.ParsePrefix(v); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(v); err == nil {
			continue
		}
		p.add(indexKey(key, i), "%q is not a CIDR or IP address", v)
	}
}

// addFieldErrors reports each error err joins under its YAML key path:
// a package's field error under key.field, anything else under key.
func (c *Config) addFieldErrors(p *problems, key string, err error) {
	for _, err := range unjoin(err) {
		field, msg := fieldOf(err)
		k := joinKey(key, field)
		if errors.Is(err, forward.ErrEmpty) || errors.Is(err, enrich.ErrEmpty) || errors.Is(err, gateway.ErrEmpty) {
			checkSecret(p, c, k, "") // names the ${VAR} it came from
			continue
		}
		p.add(k, "%s", msg.Error())
	}
}

// fieldOf splits a package's field error into the field and what is
// wrong with it; any other error has no field.
func fieldOf(err error) (string, error) {
	var fe *forward.FieldError
	if errors.As(err, &fe) {
		return fe.Field, fe.Err
	}
	var ee *enrich.FieldError
	if errors.As(err, &ee) {
		return ee.Field, ee.Err
	}
	var ge *gateway.FieldError
	if errors.As(err, &ge) {
		return ge.Field, ge.Err
	}
	return "", err
}

// unwrapOne strips the context a package puts around its joined field
// errors ("provider config: ..."), for addFieldErrors.
func unwrapOne(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// unjoin lists the errors errors.Join combined into err, joins within
// joins flattened, or err alone.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}
