package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/inbox"
)

// keptHeaders are archived with every delivery, beside the provider's own
// signature headers.
var keptHeaders = []string{"Content-Type", "User-Agent", "X-Forwarded-For", "X-Real-Ip"}

// ackBody is the answer to an authentic delivery.
type ackBody struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// handleIngest is POST /in/{source}: limit, read, verify, then persist,
// and answer 200 only once the delivery is durable.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	src, ok := s.source(mux.Vars(r)["source"])
	if !ok {
		writeError(w, r, ErrUnknownSource)
		return
	}
	logSource(r, src.Name)
	if !s.admit(w, r, src) { // ingress.go: allowlist and rate limit
		return
	}
	now := s.cfg.Now()
	release, err := s.reserveBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer release()
	body, err := s.readBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	proof, err := src.provider.Verify(r.Header, body, now)
	if err != nil {
		s.refuse(w, r, src, body, now, err)
		return
	}
	ev := s.newEvent(r, src, body, proof, now)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AckTimeout)
	defer cancel()
	res, err := s.store.Accept(ctx, ev)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The outcome goes on the access-log line (one line per delivery at
	// info keeps logging off the profile at thousands of deliveries a
	// second) and to the observer.
	noteAccepted(r, ev, res)
	writeJSON(w, http.StatusOK, ackBody{ID: res.ID, Duplicate: res.Duplicate})
}

// reserveBody takes room for r's body in the in-flight budget: its
// declared length, or the most it may be when undeclared.
func (s *Server) reserveBody(r *http.Request) (release func(), err error) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrBodyTooLarge, r.ContentLength)
	}
	n := s.cfg.MaxBodyBytes
	if r.ContentLength >= 0 {
		n = max(r.ContentLength, 1)
	}
	if !s.bodies.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AckTimeout)
		defer cancel()
		if err := s.bodies.Acquire(ctx, n); err != nil {
			return nil, fmt.Errorf("gateway busy: in-flight body budget full: %w", inbox.ErrNotDurable)
		}
	}
	return func() { s.bodies.Release(n) }, nil
}

// readBody reads the whole body under the size limit, into a buffer sized
// from Content-Length when there is one.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), max(r.ContentLength, 0)+1)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, tooBig.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %w", ErrBadRequest, err)
	}
	return body, nil
}

// readAll is io.ReadAll into a buffer that starts with room for size
// bytes, so a body of declared length (plus one byte, for the read that
// meets EOF) is read without growing it. (bytes.Buffer.ReadFrom would
// grow it anyway, to keep 512 bytes free for every read.)
func readAll(rd io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the next size
		}
	}
}

// newEvent builds the archive record of a verified delivery. A body the
// provider signed but nobody can parse is quarantined: kept, never
// forwarded, deduplicated on its bytes alone.
func (s *Server) newEvent(r *http.Request, src *source, body []byte, proof inbox.Verification, now time.Time) *inbox.Event {
	sum := bodyHash(body)
	ev := &inbox.Event{
		Source: src.Name, Provider: src.Provider, Status: inbox.StatusAccepted, Origin: inbox.OriginProvider,
		ReceivedAt: now.UTC(), RemoteAddr: s.clientIP(r), RequestID: requestID(r),
		Headers: keepHeaders(r.Header, src.def.SignatureHeaders), ContentType: r.Header.Get("Content-Type"),
		Body: body, BodySHA256: sum, BodySize: len(body), Verification: proof,
	}
	facts, err := src.provider.Inspect(body)
	if err != nil {
		loggerFrom(r).WithError(err).Warn("authentic delivery is unparseable; quarantined")
		ev.Status = inbox.StatusQuarantined
		ev.DedupKeys = []string{"body:" + sum}
		return ev
	}
	ev.Type, ev.InterviewID, ev.DedupKeys = facts.Event, facts.InterviewID, facts.DedupKeys
	ev.Destinations = (*s.route.Load())(src.Name, facts.Event)
	return ev
}

// refuse answers a delivery that failed verification: 401, except a
// control request (Koji's endpoint check) which gets the 200 its set-up
// needs. Either way it goes to the rejection log, never the archive.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, src *source, body []byte, now time.Time, verr error) {
	control := src.def.ControlWithoutSignature != nil && src.def.ControlWithoutSignature(body)
	rej := inbox.Rejection{
		At: now.UTC(), Kind: "rejected", Source: src.Name, Reason: verr.Error(),
		Status: http.StatusUnauthorized, RemoteAddr: s.clientIP(r), RequestID: requestID(r),
		Headers: truncateValues(keepHeaders(r.Header, src.def.SignatureHeaders)), BodySHA256: bodyHash(body), BodySize: len(body),
	}
	if control {
		rej.Kind, rej.Status = "control", http.StatusOK
	}
	if s.journal != nil {
		s.journal.LogRejection(rej)
	}
	// A flood of refusals must not flood the log: the rejection log and
	// the access log keep every one.
	logIt := s.refusalLog.Allow()
	if control {
		if logIt {
			loggerFrom(r).WithField("reason", verr.Error()).Info("control request answered 200; not archived")
		}
		writeJSON(w, http.StatusOK, map[string]any{"control": true, "request_id": requestID(r)})
		return
	}
	if logIt {
		loggerFrom(r).WithField("reason", verr.Error()).Warn("delivery refused")
	}
	writeError(w, r, verr)
}

// maxLoggedHeader bounds each header value kept in the rejection log, so
// refused requests cannot fill it with attacker-sized headers.
const maxLoggedHeader = 256

func truncateValues(h map[string][]string) map[string][]string {
	for k, vs := range h {
		for i, v := range vs {
			if len(v) > maxLoggedHeader {
				vs[i] = v[:maxLoggedHeader] + "…"
			}
		}
		h[k] = vs
	}
	return h
}

func bodyHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keepHeaders copies the archived subset of h.
func keepHeaders(h http.Header, extra []string) map[string][]string {
	out := make(map[string][]string)
	for _, list := range [][]string{keptHeaders, extra} {
		for _, k := range list {
			if v := h.Values(k); len(v) > 0 {
				out[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
			}
		}
	}
	return out
}
