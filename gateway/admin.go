package gateway

import (
	"fmt"
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
}

// Admin is the private listener: archive API and pages, admin actions,
// metrics. Every route but /metrics and the health checks needs a token.
type Admin struct {
	cfg     AdminConfig
	archive Archive
	log     logrus.FieldLogger
	tokens  atomic.Pointer[tokens]
	listener
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
	return nil
}
