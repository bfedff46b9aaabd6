package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// outcome is what became of one ingest request, decided by the step of
// ingest that knew it: the answer to write, and what the access log and
// Config.Observe report. serveIngest is its only reader.
type outcome struct {
	status     int
	answer     any    // the JSON body, unless err is set
	err        error  // a refusal, answered by the rules in httperror.go
	retryAfter string // Retry-After of a 429 (httpserve sets the 503 one)
	result     string // one of the Result constants
	src        *source
	ev         *inbox.Event // authentic deliveries only
	res        inbox.Result
}

// refused is the outcome of a request answered with err.
func refused(src *source, result string, err error) outcome {
	return outcome{status: statusOf(err), err: err, result: result, src: src}
}

// stored is the outcome of an authentic delivery the store took.
func stored(src *source, ev *inbox.Event, res inbox.Result) outcome {
	o := outcome{status: http.StatusOK, answer: ackBody{ID: res.ID, Duplicate: res.Duplicate},
		result: ResultAccepted, src: src, ev: ev, res: res}
	switch {
	case res.Duplicate:
		o.result = ResultDuplicate
	case ev.Status == inbox.StatusQuarantined:
		o.result = ResultQuarantined
	}
	return o
}

// bodyResult names a failed body read (bodyError's classes).
func bodyResult(err error) string {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return ResultTooLarge
	case errors.Is(err, inbox.ErrNotDurable):
		return ResultUnavailable // the in-flight budget stayed full
	}
	return ResultBadRequest
}

// storeResult names a failed Accept: the store's contract says which
// errors mean "not durable in time".
func storeResult(err error) string {
	if errors.Is(err, inbox.ErrNotDurable) || errors.Is(err, inbox.ErrClosed) {
		return ResultUnavailable
	}
	return ResultError
}

// serveIngest is POST /in/{source}. It answers with ingest's outcome and
// reports it to Config.Observe before the answer leaves, so a client that
// has its answer finds it counted; then it flushes the answer and writes
// the access-log line, which a provider waiting for its 200 should not
// wait for. One line per delivery at info keeps logging off the profile
// at thousands of deliveries a second.
func (s *Server) serveIngest(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	o := s.ingest(w, r)
	n := s.answer(w, r, o)
	if s.cfg.Observe != nil {
		s.cfg.Observe(o.report(time.Since(start)))
	}
	// WriteJSON sets Content-Length, so this flush does not turn the
	// answer chunked.
	_ = http.NewResponseController(w).Flush()
	httpserve.LogAccess(r, start, o.status, n, o.addFields)
}

// answer writes o's answer and returns the bytes written.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, o outcome) int {
	if o.retryAfter != "" {
		w.Header().Set("Retry-After", o.retryAfter)
	}
	if o.err != nil {
		return writeErrorTo(w, r, ingestLogger(r, o.src), o.err)
	}
	return httpserve.WriteJSON(w, o.status, o.answer)
}

// report is o as Config.Observe hears it. Labels come from the source
// table and the provider's documented event types, never from the path.
func (o outcome) report(took time.Duration) Outcome {
	out := Outcome{Source: UnknownSource, Result: o.result, Status: o.status, Duration: took, SecretIndex: -1}
	if o.src == nil {
		return out
	}
	out.Source = o.src.Name
	if o.ev != nil {
		out.Event, out.SigMode, out.SecretIndex = eventLabel(o.src.def, o.ev.Type), o.ev.Verification.Mode, o.ev.Verification.SecretIndex
		out.Duplicate = o.res.Duplicate
	}
	return out
}

// addFields puts an authentic delivery's outcome on its access-log line;
// other requests' lines carry the common fields only.
func (o outcome) addFields(f logrus.Fields) {
	if o.ev == nil {
		return
	}
	f[fieldSource], f[fieldEventID], f[fieldEvent] = o.ev.Source, o.res.ID, clip(o.ev.Type, maxLoggedField)
	f["duplicate"], f["sig_mode"], f["secret_index"] = o.res.Duplicate, o.ev.Verification.Mode, o.ev.Verification.SecretIndex
}

// ingestLogger is r's logger with the ingest source, when there is one.
// It is built on each call: only warnings and errors need it.
func ingestLogger(r *http.Request, src *source) logrus.FieldLogger {
	l := httpserve.LoggerFrom(r)
	if src != nil {
		l = l.WithField(fieldSource, src.Name)
	}
	return l
}
