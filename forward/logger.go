package forward

import (
	"fmt"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"
)

// leveledLogger adapts a logrus FieldLogger to retryablehttp's
// LeveledLogger. retryablehttp logs every request at debug; its messages
// carry URLs, never bodies or secrets.
type leveledLogger struct {
	l     logrus.FieldLogger
	scrub func(string) string // hides the destination URL's user information and query (urlScrubber)
}

var _ retryablehttp.LeveledLogger = leveledLogger{}

func (a leveledLogger) with(kv []any) logrus.FieldLogger {
	f := make(logrus.Fields, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			switch v := kv[i+1].(type) {
			case fmt.Stringer: // a *url.URL
				f[k] = a.scrub(v.String())
			case error:
				f[k] = a.scrub(v.Error())
			case string:
				f[k] = a.scrub(v)
			default:
				f[k] = v
			}
		}
	}
	return a.l.WithFields(f)
}

// Error is a failed request that retryablehttp retries or returns to the
// dispatcher, which logs the attempt's outcome itself: a warning here.
func (a leveledLogger) Error(msg string, kv ...any) { a.with(kv).Warn(a.scrub(msg)) }
func (a leveledLogger) Info(msg string, kv ...any)  { a.with(kv).Debug(a.scrub(msg)) }
func (a leveledLogger) Debug(msg string, kv ...any) { a.with(kv).Debug(a.scrub(msg)) }
func (a leveledLogger) Warn(msg string, kv ...any)  { a.with(kv).Warn(a.scrub(msg)) }
