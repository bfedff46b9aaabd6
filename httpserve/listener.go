package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
)

// Listener is the lifecycle both listeners share: bind, serve until the
// context ends, then shut down gracefully.
type Listener struct {
	addr  string // host:port to bind; port 0 picks a free one
	grace time.Duration
	log   logrus.FieldLogger
	srv   *http.Server // serves TLS when srv.TLSConfig is set
	ln    net.Listener
	wrap  func(net.Listener) net.Listener // nil: the bound listener as is
}

// NewListener serves srv on addr once opened, waiting up to grace for
// in-flight requests at shutdown. wrap, when not nil, wraps the bound
// net.Listener (a per-client connection limit).
func NewListener(srv *http.Server, addr string, grace time.Duration, log logrus.FieldLogger, wrap func(net.Listener) net.Listener) *Listener {
	return &Listener{addr: addr, grace: grace, log: log, srv: srv, wrap: wrap}
}

// Open binds the listener (":0" picks a free port; see Addr).
func (l *Listener) Open() error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", l.addr, err)
	}
	if l.wrap != nil {
		ln = l.wrap(ln)
	}
	l.ln = ln
	return nil
}

// Addr is the bound address, after Open.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Serve answers requests until ctx ends, then stops taking new ones and
// waits up to the grace period for in-flight requests to finish.
func (l *Listener) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		if l.srv.TLSConfig != nil {
			errc <- l.srv.ServeTLS(l.ln, "", "")
			return
		}
		errc <- l.srv.Serve(l.ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", l.ln.Addr(), err)
	case <-ctx.Done():
	}
	l.log.WithField("addr", l.ln.Addr().String()).Info("shutting down listener")
	sctx, cancel := context.WithTimeout(context.Background(), l.grace)
	defer cancel()
	err := l.srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", l.ln.Addr(), serr)
	}
	if err != nil {
		return fmt.Errorf("shutdown %s: %w", l.ln.Addr(), err)
	}
	return nil
}
