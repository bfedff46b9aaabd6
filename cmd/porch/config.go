package main

import (
	"fmt"
	"time"
)

// Config is the whole porch configuration file. It mirrors config.example.yaml,
// which documents every key. Obtain one with LoadConfig or ParseConfig, which
// fill defaults, expand ${VAR}, decode and validate, in that order.
type Config struct {
	Listen       string        `yaml:"listen"`
	AdminListen  string        `yaml:"admin_listen"`
	DataDir      string        `yaml:"data_dir"`
	Store        StoreConfig   `yaml:"store"`
	Log          LogConfig     `yaml:"log"`
	TLS          TLSConfig     `yaml:"tls"`
	Limits       LimitsConfig  `yaml:"limits"`
	Dedup        DedupConfig   `yaml:"dedup"`
	Archive      ArchiveConfig `yaml:"archive"`
	Ingress      IngressConfig `yaml:"ingress"`
	Sources      []Source      `yaml:"sources"`
	Destinations []Destination `yaml:"destinations"`
	Auth         AuthConfig    `yaml:"auth"`

	// origins maps a YAML key path to the ${VAR} references its value was
	// expanded from, so errors can name the variable without the value.
	origins map[string]string
}

// LogConfig selects the logrus level and formatter.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // json | text
}

// TLSConfig turns on TLS for the ingest listener, from files or via ACME.
type TLSConfig struct {
	CertFile string     `yaml:"cert_file"`
	KeyFile  string     `yaml:"key_file"`
	ACME     ACMEConfig `yaml:"acme"`
}

// Enabled reports whether the ingest listener serves TLS.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.ACME.Enabled() }

// ACMEConfig obtains certificates automatically; it is enabled when Domains is non-empty.
type ACMEConfig struct {
	Domains      []string `yaml:"domains"`
	Email        string   `yaml:"email"`
	DirectoryURL string   `yaml:"directory_url"`
	CacheDir     string   `yaml:"cache_dir"` // default <data_dir>/acme
}

// Enabled reports whether ACME is in use.
func (a ACMEConfig) Enabled() bool { return len(a.Domains) > 0 }

// LimitsConfig bounds the ingest listener.
type LimitsConfig struct {
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
	AckTimeout        time.Duration `yaml:"ack_timeout"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	MaxInflightBytes  int64         `yaml:"max_inflight_bytes"`
	MaxConnsPerClient int           `yaml:"max_conns_per_client"`
	MinFreeBytes      int64         `yaml:"min_free_bytes"`
}

// DedupConfig sets how long a dedup key is remembered.
type DedupConfig struct {
	Window time.Duration `yaml:"window"`
}

// ArchiveConfig sets raw-payload retention (0 keeps forever) and the bounds
// of the log of rejected and control requests, in entries and in bytes.
type ArchiveConfig struct {
	Retention        time.Duration `yaml:"retention"`
	RejectedLogSize  int           `yaml:"rejected_log_size"`
	RejectedLogBytes int64         `yaml:"rejected_log_bytes"`
	// AccessTrailSize bounds the access trail's sensitive reads and
	// actions; AccessTrailSearchSize bounds its searches apart, so
	// searching never pushes out the record of an export.
	AccessTrailSize       int `yaml:"access_trail_size"`
	AccessTrailSearchSize int `yaml:"access_trail_search_size"`
}

// IngressConfig lists the proxies whose X-Forwarded-For is believed.
type IngressConfig struct {
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Source is one provider endpoint, served at POST /in/<name>.
type Source struct {
	Name              string           `yaml:"name"`
	Provider          string           `yaml:"provider"` // koji | gather
	Secrets           []string         `yaml:"secrets"`
	Tolerance         time.Duration    `yaml:"tolerance"`          // gather only
	CanonicalFallback bool             `yaml:"canonical_fallback"` // gather only
	MaxBodyAge        time.Duration    `yaml:"max_body_age"`       // koji only; default below dedup.window
	AllowCIDRs        []string         `yaml:"allow_cidrs"`
	RateLimit         RateLimit        `yaml:"rate_limit"`
	Enrich            *EnrichConfig    `yaml:"enrich,omitempty"`    // nil: no enrichment
	Reconcile         *ReconcileConfig `yaml:"reconcile,omitempty"` // nil: no reconciliation

	explicit map[string]bool // keys present in the file, for provider-only checks
	empty    []string        // blockKeys written with no value, for validation
}

// blockKeys are the source keys holding a block of settings. Written with
// no value (its body commented out) such a key decodes as absent, which
// would silently turn the feature off, so validation refuses it.
var blockKeys = []string{"enrich", "reconcile"}

// RateLimit is a token bucket; RPS 0 turns it off.
type RateLimit struct {
	RPS   float64 `yaml:"rps"`
	Burst int     `yaml:"burst"` // default max(1, rps)
}

// EnrichConfig fetches the full interview record from the provider's API.
type EnrichConfig struct {
	BaseURL        string        `yaml:"base_url"`
	APIKey         string        `yaml:"api_key"`
	Auth           string        `yaml:"auth"` // koji: bearer; gather: x-api-key | basic
	OrganizationID string        `yaml:"organization_id"`
	Events         []string      `yaml:"events"`
	OnFailure      string        `yaml:"on_failure"` // forward | hold
	Timeout        time.Duration `yaml:"timeout"`
	MaxWait        time.Duration `yaml:"max_wait"`
}

// ReconcileConfig periodically lists recent Gather interviews to catch missed deliveries.
type ReconcileConfig struct {
	Interval time.Duration `yaml:"interval"` // 0 = off
	Lookback time.Duration `yaml:"lookback"`
}

// Destination is one internal handler that receives forwarded events.
type Destination struct {
	Name        string        `yaml:"name"`
	URL         string        `yaml:"url"`
	Match       []string      `yaml:"match"`  // globs over "source:event" (inbox.MatchGlob)
	Format      string        `yaml:"format"` // envelope | raw
	Secret      string        `yaml:"secret"` // whsec_<base64>
	Timeout     time.Duration `yaml:"timeout"`
	MaxAttempts int           `yaml:"max_attempts"`
	Concurrency int           `yaml:"concurrency"`
	RateLimit   RateLimit     `yaml:"rate_limit"`
	Backoff     BackoffConfig `yaml:"backoff"`
	Circuit     CircuitConfig `yaml:"circuit"`
}

// BackoffConfig is exponential backoff: Initial doubling per attempt, capped at Max.
type BackoffConfig struct {
	Initial time.Duration `yaml:"initial"`
	Max     time.Duration `yaml:"max"`
}

// CircuitConfig opens a destination's circuit after Failures consecutive
// failures and half-opens it after Cooldown.
type CircuitConfig struct {
	Failures int           `yaml:"failures"`
	Cooldown time.Duration `yaml:"cooldown"`
}

// AuthConfig holds the admin listener's bearer tokens.
type AuthConfig struct {
	AdminTokens   []string `yaml:"admin_tokens"`
	AuditorTokens []string `yaml:"auditor_tokens"`
	// RateLimit bounds each token's requests to the archive API and
	// pages; over it the admin listener answers 429.
	RateLimit RateLimit `yaml:"rate_limit"`
}

// ConfigError is one problem in a config file, naming the YAML key path
// (for example sources[1].secrets[0]). It never carries secret values.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return "config: " + e.Msg
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Msg)
}
