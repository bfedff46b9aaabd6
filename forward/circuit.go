package forward

import "time"

// circuit is one destination's breaker. It is not safe for concurrent
// use: the Dispatcher guards it with its mutex.
//
// Closed: requests flow; Failures consecutive failed attempts open it.
// Open: nothing is sent (and no attempt is spent) until Cooldown has
// passed. Half-open: one probe request goes; success closes the circuit,
// failure opens it for another Cooldown.
type circuit struct {
	cfg      CircuitConfig
	failures int
	openTill time.Time // zero when closed
	probing  bool      // a half-open probe is in flight
}

// allow reports whether a request may start at now given inflight
// requests to the destination; a half-open circuit allows one, the probe.
func (c *circuit) allow(now time.Time, inflight int) bool {
	if c.openTill.IsZero() {
		return true
	}
	return !now.Before(c.openTill) && !c.probing && inflight == 0
}

// start notes that a request starts; it is the probe when half-open.
func (c *circuit) start() {
	if !c.openTill.IsZero() {
		c.probing = true
	}
}

// done records an attempt's outcome: ok means the destination answered
// in a way that shows it is up (2xx or a permanent 4xx). It reports
// whether the circuit opened.
func (c *circuit) done(now time.Time, ok bool) (opened bool) {
	c.probing = false
	if ok {
		c.failures, c.openTill = 0, time.Time{}
		return false
	}
	c.failures++
	if !c.openTill.IsZero() || c.failures >= c.cfg.Failures {
		c.openTill = now.Add(c.cfg.Cooldown)
		return true
	}
	return false
}

// reopenAt is when an open circuit next allows a probe; zero when closed.
func (c *circuit) reopenAt() time.Time { return c.openTill }
