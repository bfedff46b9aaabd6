package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
	"golang.org/x/time/rate"
)

// SourceIngress protects one source: who may call it and how often.
type SourceIngress struct {
	// AllowCIDRs lists the client networks (CIDRs or bare IPs) allowed to
	// deliver. Empty allows everyone.
	AllowCIDRs []string
	// RPS is the sustained requests per second allowed; 0 is unlimited.
	RPS float64
	// Burst is how many requests may arrive at once; default max(1, RPS).
	Burst int
}

// guard is a source's ingress state: its parsed allowlist and token bucket.
// It is immutable but for the limiter, which is safe for concurrent use.
type guard struct {
	allow   []netip.Prefix
	rps     float64
	burst   int
	limiter *rate.Limiter // nil: unlimited
}

// newGuard builds the guard for cfg, keeping prev's limiter (and so its
// state) when the limit did not change.
func newGuard(cfg SourceIngress, prev *guard) (*guard, error) {
	allow, err := ParsePrefixes(cfg.AllowCIDRs)
	if err != nil {
		return nil, fmt.Errorf("allow_cidrs: %w", err)
	}
	if cfg.RPS < 0 || cfg.Burst < 0 {
		return nil, errors.New("rate limit: negative rps or burst")
	}
	g := &guard{allow: allow, rps: cfg.RPS, burst: cfg.Burst}
	if g.rps == 0 {
		return g, nil
	}
	if g.burst == 0 {
		g.burst = max(1, int(math.Ceil(g.rps)))
	}
	if prev != nil && prev.limiter != nil && prev.rps == g.rps && prev.burst == g.burst {
		g.limiter = prev.limiter
		return g, nil
	}
	g.limiter = rate.NewLimiter(rate.Limit(g.rps), g.burst)
	return g, nil
}

// ParsePrefixes reads CIDRs and bare IPs (a bare IP is a /32 or /128).
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("[%d] %q: %w", i, s, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: %w", i, s, err)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func contains(list []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// SetTrustedProxies swaps the proxies whose X-Forwarded-For is believed.
func (s *Server) SetTrustedProxies(list []string) error {
	p, err := ParsePrefixes(list)
	if err != nil {
		return fmt.Errorf("trusted proxies: %w", err)
	}
	s.trusted.Store(&p)
	return nil
}

// ClientAddr is the address of the client that sent r. X-Forwarded-For
// is believed only when the peer is a trusted proxy, and then only up to
// the right-most address that is not itself a trusted proxy: everything
// left of it could have been written by the client.
func ClientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, error) {
	peer, err := netip.ParseAddr(httpserve.RemoteIP(r))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("peer address %q: %w", r.RemoteAddr, err)
	}
	peer = peer.Unmap()
	if !contains(trusted, peer) {
		return peer, nil
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return netip.Addr{}, fmt.Errorf("x-forwarded-for entry %d: %w", i, err)
		}
		if peer = a.Unmap(); !contains(trusted, peer) {
			return peer, nil
		}
	}
	return peer, nil
}

// clientIP is the client's address as ClientAddr resolves it through the
// trusted proxies, or the peer address when that fails. The archive and
// the rejection log should record this rather than the proxy's address.
func (s *Server) clientIP(r *http.Request) string {
	if a, err := ClientAddr(r, *s.trusted.Load()); err == nil {
		return a.String()
	}
	return httpserve.RemoteIP(r)
}

// forwardedFor lists every X-Forwarded-For hop, left to right, across
// repeated headers.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				hops = append(hops, part)
			}
		}
	}
	return hops
}

// admit applies src's ingress protection to r. When it refuses, it has
// logged the refusal to the journal and returns the outcome (403 or 429)
// and false.
func (s *Server) admit(r *http.Request, src *source) (outcome, bool) {
	g := src.guard
	if g == nil {
		return outcome{}, true
	}
	if len(g.allow) > 0 {
		client, err := ClientAddr(r, *s.trusted.Load())
		if err != nil || !contains(g.allow, client) {
			reason := "client address not allowed: " + client.String()
			if err != nil {
				reason = "client address unknown: " + err.Error()
			}
			return s.refuseIngress(r, src, reason, ResultForbidden, ErrAddressNotAllowed), false
		}
	}
	if g.limiter == nil {
		return outcome{}, true
	}
	now := time.Now()
	res := g.limiter.ReserveN(now, 1)
	if delay := res.DelayFrom(now); delay > 0 {
		res.CancelAt(now)
		o := s.refuseIngress(r, src, "rate limited", ResultRateLimited, httpserve.ErrRateLimited)
		o.retryAfter = strconv.Itoa(int(math.Ceil(delay.Seconds())))
		return o, false
	}
	return outcome{}, true
}

// refuseIngress is the outcome of a request stopped at the door, recorded
// in the rejection log: metadata only, never the body (it is not read).
func (s *Server) refuseIngress(r *http.Request, src *source, reason, result string, err error) outcome {
	o := refused(src, result, err)
	if s.journal != nil {
		s.journal.LogRejection(inbox.Rejection{
			At: s.cfg.Now().UTC(), Kind: "rejected", Source: src.Name, Reason: reason, Status: o.status,
			RemoteAddr: s.clientIP(r), RequestID: httpserve.RequestID(r), Headers: keepHeaders(r.Header, nil), // the journal bounds them
		})
	}
	if s.refusalLog.Allow() { // sampled: a flood must not flood the log
		ingestLogger(r, src).WithField("reason", reason).Warn("delivery refused at ingress")
	}
	return o
}

// setupEdge prepares what New needs beyond the source table: trusted
// proxies, the swappable route, and the TLS config (nil: plain HTTP).
func (s *Server) setupEdge() (*tls.Config, error) {
	if err := s.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return nil, err
	}
	s.SetRoute(s.cfg.Route)
	if s.cfg.TLS == nil {
		return nil, nil
	}
	return newTLS(*s.cfg.TLS, s.log)
}

// prevGuard is the guard source name has now, so a reload keeps its
// rate-limit state; nil before the first table.
func (s *Server) prevGuard(name string) *guard {
	t := s.sources.Load()
	if t == nil {
		return nil
	}
	if src, ok := (*t)[name]; ok {
		return src.guard
	}
	return nil
}
