package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/sirupsen/logrus"
)

// Log field keys.
const (
	fieldRequestID = "request_id"
	fieldSource    = "source"
	fieldEventID   = "event_id"
	fieldStatus    = "status"
	fieldEvent     = "event"
)

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxLogger
	ctxAdmin
	ctxRole
	ctxToken
	ctxLogNote
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID gives every request an id: the client's X-Request-Id when
// it is short and plain, else a fresh one. It is echoed in the response
// and carried by the request's logger.
func withRequestID(log logrus.FieldLogger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !validRequestID.MatchString(id) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-Id", id)
			ctx := context.WithValue(r.Context(), ctxRequestID, id)
			ctx = context.WithValue(ctx, ctxLogger, log.WithField(fieldRequestID, id))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(ctxRequestID).(string)
	return id
}

func loggerFrom(r *http.Request) logrus.FieldLogger {
	if l, ok := r.Context().Value(ctxLogger).(logrus.FieldLogger); ok {
		return l
	}
	return discardLogger()
}

// statusWriter remembers the status and size written, for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog logs one line per request: never headers or bodies. Handlers
// add their outcome (event id, duplicate) to it with noteLog, so a
// delivery costs one log line, not two.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		note := logrus.Fields{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxLogNote, note)))
		note["method"], note["path"], note[fieldStatus] = r.Method, r.URL.Path, sw.status
		note["bytes"], note["remote"] = sw.bytes, remoteIP(r)
		note["duration_ms"] = float64(time.Since(start).Microseconds()) / 1000
		loggerFrom(r).WithFields(note).Info("request")
	})
}

// noteLog adds fields to the request's access-log line. Only the handler's
// goroutine may call it.
func noteLog(r *http.Request, fields logrus.Fields) {
	if note, ok := r.Context().Value(ctxLogNote).(logrus.Fields); ok {
		for k, v := range fields {
			note[k] = v
		}
	}
}

// recoverPanic turns a handler panic into a logged 500.
func recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				loggerFrom(r).WithField("panic", v).Error("handler panicked")
				writeError(w, r, errPanic)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{}

func (panicError) Error() string { return "handler panicked" }

var errPanic error = panicError{}

// remoteIP is the peer address without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
