package httpserve

import (
	"testing"

	"github.com/sirupsen/logrus"
)

// An access-log line is only built for a logger that writes info lines.
func TestInfoEnabled(t *testing.T) {
	l := logrus.New()
	for _, tt := range []struct {
		level logrus.Level
		want  bool
	}{{logrus.DebugLevel, true}, {logrus.InfoLevel, true}, {logrus.WarnLevel, false}, {logrus.ErrorLevel, false}} {
		l.SetLevel(tt.level)
		if got := infoEnabled(l); got != tt.want {
			t.Errorf("logger at %s: %v, want %v", tt.level, got, tt.want)
		}
		if got := infoEnabled(l.WithField("component", "gateway")); got != tt.want {
			t.Errorf("entry of a logger at %s: %v, want %v", tt.level, got, tt.want)
		}
	}
}
