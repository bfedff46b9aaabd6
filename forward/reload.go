package forward

import (
	"fmt"
	"reflect"
	"slices"
)

// SetDestinations swaps the destinations live. It validates them all
// first and changes nothing when any is invalid. A destination whose
// settings did not change keeps its state (concurrency in use, circuit);
// a changed one starts afresh, its attempts already in flight finishing
// under the old settings. Entries queued for a destination that was
// removed stay in the outbox, untouched, until it comes back.
//
// Route events to a new destination only after this returns, so that no
// event is queued for a destination no forwarder serves.
func (d *Dispatcher) SetDestinations(dests []Destination) error {
	cfg := d.cfg
	cfg.Destinations = append([]Destination(nil), dests...)
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("forward config: %w", err)
	}
	fresh := make(map[string]*dest, len(cfg.Destinations))
	d.mu.Lock()
	for _, dc := range cfg.Destinations {
		if old, ok := d.dests[dc.Name]; ok && reflect.DeepEqual(old.cfg, dc) {
			fresh[dc.Name] = old
			continue
		}
		fresh[dc.Name] = d.newDest(dc)
	}
	d.dests = fresh
	d.mu.Unlock()
	d.log.WithField("destinations", len(fresh)).Info("destinations reloaded")
	d.warnUnknown()
	d.kickPass()
	return nil
}

// Destinations returns the names of the destinations forwarded to now,
// after any reload, sorted.
func (d *Dispatcher) Destinations() []string {
	d.mu.Lock()
	names := make([]string, 0, len(d.dests))
	for name := range d.dests {
		names = append(names, name)
	}
	d.mu.Unlock()
	slices.Sort(names)
	return names
}
