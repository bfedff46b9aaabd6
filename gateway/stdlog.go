package gateway

import (
	"log"
	"strings"

	"github.com/sirupsen/logrus"
)

// newStdLogger routes net/http's own messages (TLS handshake errors,
// malformed requests) to l at warn level.
func newStdLogger(l logrus.FieldLogger) *log.Logger {
	return log.New(stdWriter{l}, "", 0)
}

type stdWriter struct{ l logrus.FieldLogger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}
