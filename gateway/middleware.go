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
	ctxRequest ctxKey = iota // *requestState, from withRequestID
	ctxLogger                // a logger scoped by authenticate (admin)
	ctxAdmin
	ctxRole
	ctxToken
)

// requestState is what withRequestID tells the rest of the chain about
// one request. It is set once, before the handlers run, and never
// changed; what the ingest handler learns travels in its outcome.
type requestState struct {
	id  string
	log logrus.FieldLogger // the listener's logger, without request fields
}

func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(ctxRequest).(*requestState)
	return st
}

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

func requestID(r *http.Request) string {
	if st := stateOf(r); st != nil {
		return st.id
	}
	return ""
}

// loggerFrom is r's logger: the listener's with request_id, or the one
// authenticate scoped. It is built on each call: only warnings and errors
// need it.
func loggerFrom(r *http.Request) logrus.FieldLogger {
	if l, ok := r.Context().Value(ctxLogger).(logrus.FieldLogger); ok {
		return l
	}
	st := stateOf(r)
	if st == nil {
		return discardLogger()
	}
	return st.log.WithField(fieldRequestID, st.id)
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

// accessLog logs one line per request: never headers or bodies. The
// ingest route writes its own line (serveIngest), with its outcome on it.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		st := stateOf(r)
		if st == nil {
			return
		}
		if sw.status != 0 && w.Header().Get("Content-Length") != "" {
			// Send the answer before the log line is made: a client
			// should not wait for our logging too. (Without a length,
			// flushing would mean chunked encoding.)
			_ = http.NewResponseController(w).Flush()
		}
		st.log.WithFields(st.accessFields(r, start, sw.status, sw.bytes)).Info("request")
	})
}

// accessFields are the fields every access-log line has, with room for
// an ingest outcome's.
func (st *requestState) accessFields(r *http.Request, start time.Time, status, bytes int) logrus.Fields {
	f := make(logrus.Fields, 13)
	f[fieldRequestID], f["method"], f["path"], f[fieldStatus] = st.id, r.Method, r.URL.Path, status
	f["bytes"], f["remote"] = bytes, remoteIP(r)
	f["duration_ms"] = float64(time.Since(start).Microseconds()) / 1000
	return f
}

// maxLoggedField bounds a value taken from a payload on a log line: an
// authentic delivery may carry an event type of any length.
const maxLoggedField = 128

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
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
