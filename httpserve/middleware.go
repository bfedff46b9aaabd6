package httpserve

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

// Log field keys every listener's lines share.
const (
	FieldRequestID = "request_id"
	FieldStatus    = "status"
)

type ctxKey int

const (
	ctxRequest ctxKey = iota // *requestState, from WithRequestID
	ctxLogger                // a logger scoped by WithLogger
)

// requestState is what WithRequestID tells the rest of the chain about
// one request. It is set once, before the handlers run, and never
// changed.
type requestState struct {
	id  string
	log logrus.FieldLogger // the listener's logger, without request fields
}

func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(ctxRequest).(*requestState)
	return st
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// WithRequestID gives every request an id: the client's X-Request-Id when
// it is short and plain, else a fresh one. It is echoed in the response
// and carried by the request's logger.
func WithRequestID(log logrus.FieldLogger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !validRequestID.MatchString(id) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-Id", id)
			st := &requestState{id: id, log: log}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxRequest, st)))
		})
	}
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RequestID is r's id, "" outside WithRequestID.
func RequestID(r *http.Request) string {
	if st := stateOf(r); st != nil {
		return st.id
	}
	return ""
}

// WithLogger makes log r's logger from now on (the admin listener scopes
// it by the caller's token).
func WithLogger(ctx context.Context, log logrus.FieldLogger) context.Context {
	return context.WithValue(ctx, ctxLogger, log)
}

// LoggerFrom is r's logger: the listener's with request_id, or the one
// WithLogger set. It is built on each call: only warnings and errors
// need it.
func LoggerFrom(r *http.Request) logrus.FieldLogger {
	if l, ok := r.Context().Value(ctxLogger).(logrus.FieldLogger); ok {
		return l
	}
	st := stateOf(r)
	if st == nil {
		return DiscardLogger()
	}
	return st.log.WithField(FieldRequestID, st.id)
}

// StatusWriter remembers the status and size written, for the access log.
type StatusWriter struct {
	http.ResponseWriter
	Status int // 0 until the header is written
	Bytes  int
}

// WriteHeader records code as the status, the first time.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes written.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

// Unwrap is the underlying writer, for http.ResponseController.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AccessLog logs one line per request: never headers or bodies. A route
// that logs its own line, with more on it, goes without it and uses
// LogAccess.
func AccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if stateOf(r) == nil {
			return
		}
		if sw.Status != 0 && w.Header().Get("Content-Length") != "" {
			// Send the answer before the log line is made: a client
			// should not wait for our logging too. (Without a length,
			// flushing would mean chunked encoding.)
			_ = http.NewResponseController(w).Flush()
		}
		LogAccess(r, start, sw.Status, sw.Bytes, nil)
	})
}

// LogAccess writes r's access-log line, with the fields every line has
// and those more adds to them.
func LogAccess(r *http.Request, start time.Time, status, bytes int, more func(logrus.Fields)) {
	st := stateOf(r)
	if st == nil || !infoEnabled(st.log) {
		return
	}
	f := make(logrus.Fields, 13)
	f[FieldRequestID], f["method"], f["path"], f[FieldStatus] = st.id, r.Method, r.URL.Path, status
	f["bytes"], f["remote"] = bytes, RemoteIP(r)
	f["duration_ms"] = float64(time.Since(start).Microseconds()) / 1000
	if more != nil {
		more(f)
	}
	st.log.WithFields(f).Info("request")
}

// infoEnabled reports whether log writes info lines, so that a logger
// set to warn or above costs no access-log fields.
func infoEnabled(log logrus.FieldLogger) bool {
	switch l := log.(type) {
	case *logrus.Entry:
		return l.Logger.IsLevelEnabled(logrus.InfoLevel)
	case *logrus.Logger:
		return l.IsLevelEnabled(logrus.InfoLevel)
	}
	return true
}

// Recover turns a handler panic into a logged 500. http.ErrAbortHandler
// goes on up, to abort the connection.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				LoggerFrom(r).WithField("panic", v).Error("handler panicked")
				base.Write(w, r, errPanic)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{}

func (panicError) Error() string { return "handler panicked" }

var errPanic error = panicError{}

// RemoteIP is the peer address without its port.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
