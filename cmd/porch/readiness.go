package main

import (
	"sync"

	"github.com/sirupsen/logrus"
)

// readiness is the store's readiness as both listeners' /readyz report
// it, logged when it changes rather than at every probe.
type readiness struct {
	check func() error
	log   logrus.FieldLogger

	mu   sync.Mutex
	down bool
}

// Ready runs the check and logs a change of its outcome.
func (r *readiness) Ready() error {
	err := r.check()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.down:
		r.down = true
		r.log.WithError(err).Warn("not ready: /readyz answers 503 until the store takes deliveries again")
	case err == nil && r.down:
		r.down = false
		r.log.Info("ready again: /readyz answers 200")
	}
	return err
}
