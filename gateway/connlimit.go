package gateway

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// connLimit is a listener that holds at most max connections open per
// peer address at once; a connection past that is closed as soon as it
// is accepted, before any byte is read. Peers that are trusted proxies
// are not limited: every client behind them shares their address. It
// keeps one client from holding all of the process's file descriptors
// with connections that send nothing.
type connLimit struct {
	net.Listener
	max     int
	trusted func() []netip.Prefix
	onDrop  func(addr netip.Addr) // called for each connection refused
	mu      sync.Mutex
	open    map[netip.Addr]int
}

func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		addr := ap.Addr().Unmap()
		if err != nil || contains(l.trusted(), addr) {
			return c, nil
		}
		key := clientKey(addr)
		if !l.take(key) {
			l.onDrop(addr) // counted before the client can see the close
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, done: func() { l.give(key) }}, nil
	}
}

// clientKey is what the cap counts connections by: the address, or for
// IPv6 its /64, which one client normally holds whole.
func clientKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}

func (l *connLimit) take(a netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] >= l.max {
		return false
	}
	l.open[a]++
	return true
}

func (l *connLimit) give(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a]--; l.open[a] <= 0 {
		delete(l.open, a)
	}
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	closed atomic.Bool
	done   func()
}

func (c *limitedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.done()
	}
	return c.Conn.Close()
}

// limitConns wraps the ingest listener in a per-client connection limit
// when Config.MaxConnsPerClient is set.
func (s *Server) limitConns(ln net.Listener) net.Listener {
	if s.cfg.MaxConnsPerClient <= 0 {
		return ln
	}
	sample := rate.NewLimiter(1, 5)
	return &connLimit{
		Listener: ln, max: s.cfg.MaxConnsPerClient, open: make(map[netip.Addr]int),
		trusted: func() []netip.Prefix { return *s.trusted.Load() },
		onDrop: func(a netip.Addr) {
			s.hostile.connsRefused.Add(1)
			if sample.Allow() { // a flood must not flood the log
				s.log.WithField("remote", a.String()).Warn("connection refused: the client already holds its most connections")
			}
		},
	}
}

// hostileCounters count what the ingest listener did to protect itself.
type hostileCounters struct {
	budgetFull, connsRefused atomic.Uint64
}

// Protection counts what the ingest listener did to protect itself since
// it was built. Package metrics names and exports these counts.
type Protection struct {
	UploadsCut   uint64 // uploads cut before their body arrived, to make room in the in-flight budget
	BudgetFull   uint64 // requests answered 503 because the in-flight budget stayed full for AckTimeout
	ConnsRefused uint64 // connections closed on accept: their client held MaxConnsPerClient
}

// Protection reads the ingest listener's protection counters. It is safe
// for concurrent use.
func (s *Server) Protection() Protection {
	return Protection{UploadsCut: s.bodies.cuts.Load(), BudgetFull: s.hostile.budgetFull.Load(), ConnsRefused: s.hostile.connsRefused.Load()}
}
