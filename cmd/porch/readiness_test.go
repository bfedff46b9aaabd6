package main

import (
	"errors"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// Readiness is logged when it changes, not at every probe.
func TestReadinessLogsChangesOnly(t *testing.T) {
	log, hook := test.NewNullLogger()
	var err error
	r := &readiness{check: func() error { return err }, log: log}
	for _, step := range []struct {
		err  error
		want []string // messages logged by this probe
	}{
		{nil, nil},
		{errors.New("database: not durable: connection refused"), []string{"not ready: /readyz answers 503 until the store takes deliveries again"}},
		{errors.New("database: not durable: connection refused"), nil},
		{nil, []string{"ready again: /readyz answers 200"}},
		{nil, nil},
	} {
		hook.Reset()
		err = step.err
		if got := r.Ready(); got != step.err {
			t.Fatalf("Ready() = %v, want %v", got, step.err)
		}
		var msgs []string
		for _, e := range hook.AllEntries() {
			msgs = append(msgs, e.Message)
			if e.Message != "ready again: /readyz answers 200" && (e.Level != logrus.WarnLevel || e.Data[logrus.ErrorKey] != step.err) {
				t.Errorf("%q logged at %s with %v", e.Message, e.Level, e.Data)
			}
		}
		if len(msgs) != len(step.want) || (len(msgs) > 0 && msgs[0] != step.want[0]) {
			t.Errorf("probe with %v logged %q, want %q", step.err, msgs, step.want)
		}
	}
}
