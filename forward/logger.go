package forward

import (
	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"
)

// leveledLogger adapts a logrus FieldLogger to retryablehttp's
// LeveledLogger. retryablehttp logs every request at debug; its messages
// carry URLs, never bodies or secrets.
type leveledLogger struct{ l logrus.FieldLogger }

var _ retryablehttp.LeveledLogger = leveledLogger{}

func (a leveledLogger) with(kv []any) logrus.FieldLogger {
	f := make(logrus.Fields, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			f[k] = kv[i+1]
		}
	}
	return a.l.WithFields(f)
}

// Error is a failed request that retryablehttp retries or returns to the
// dispatcher, which logs the attempt's outcome itself: a warning here.
func (a leveledLogger) Error(msg string, kv ...any) { a.with(kv).Warn(msg) }
func (a leveledLogger) Info(msg string, kv ...any)  { a.with(kv).Debug(msg) }
func (a leveledLogger) Debug(msg string, kv ...any) { a.with(kv).Debug(msg) }
func (a leveledLogger) Warn(msg string, kv ...any)  { a.with(kv).Warn(msg) }
