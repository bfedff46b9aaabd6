package httpserve

import (
	"io"
	"log"
	"strings"

	"github.com/sirupsen/logrus"
)

// ErrorLog routes net/http's own messages (TLS handshake errors,
// malformed requests) to l at warn level, for http.Server.ErrorLog.
func ErrorLog(l logrus.FieldLogger) *log.Logger {
	return log.New(stdWriter{l}, "", 0)
}

type stdWriter struct{ l logrus.FieldLogger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)))
	return len(p), nil
}

// DiscardLogger is the logger of a constructor given none.
func DiscardLogger() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}
