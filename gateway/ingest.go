package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/httpserve"
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

// ingest is POST /in/{source}: limit, read, verify, then persist. It
// writes nothing: it returns the outcome, 200 only once the delivery is
// durable, and serveIngest answers it. w serves the body read alone (its
// size limit and read deadline).
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) outcome {
	src, ok := s.source(mux.Vars(r)["source"])
	if !ok {
		return refused(nil, ResultUnknownSource, ErrUnknownSource)
	}
	if o, ok := s.admit(r, src); !ok { // ingress.go: allowlist and rate limit
		return o
	}
	now := s.cfg.Now()
	body, release, err := s.readBody(w, r)
	if errors.Is(err, errUploadCut) {
		return s.cut(r, src)
	}
	if err != nil {
		return refused(src, bodyResult(err), err)
	}
	defer release()
	rd, err := read(src.provider, r.Header, body, now)
	if err != nil {
		return s.refuse(r, src, body, now, err)
	}
	ev := s.newEvent(r, src, body, rd, now)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AckTimeout)
	defer cancel()
	res, err := s.store.Accept(ctx, ev)
	if err != nil {
		return refused(src, storeResult(err), err)
	}
	return stored(src, ev, res)
}

// readBody reads the whole body under the size limit, taking room in the
// in-flight budget as its bytes arrive (budget.go). Until it has all
// arrived, a newer delivery that finds no room may cut it. release gives
// the room back once the body is no longer needed.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (body []byte, release func(), err error) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes", ErrBodyTooLarge, r.ContentLength)
	}
	rc := http.NewResponseController(w)
	claim := s.bodies.claim(func() { _ = rc.SetReadDeadline(time.Unix(1, 0)) })
	waitCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(r.Context(), s.cfg.AckTimeout)
	}
	handedOver := false
	defer func() { // deferred, so that a panic in the read gives the room back too
		claim.received()
		if !handedOver {
			claim.release()
		}
	}()
	body, err = claim.readAll(waitCtx, http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), r.ContentLength, s.cfg.MaxBodyBytes)
	if err != nil {
		if errors.Is(err, errBudgetFull) {
			s.hostile.budgetFull.Add(1)
		}
		return nil, nil, bodyError(err)
	}
	handedOver = true
	return body, claim.release, nil
}

// cut is the outcome of an upload cut to make room (budget.go): 503. It
// is the client's doing, not a server fault, and a flood of them must not
// flood the log, so it is logged sampled, at warn.
func (s *Server) cut(r *http.Request, src *source) outcome {
	if s.refusalLog.Allow() {
		ingestLogger(r, src).Warn("upload cut before its body arrived: the in-flight budget was needed for whole deliveries")
	}
	_, message := answers.Answer(errUploadCut)
	return outcome{status: http.StatusServiceUnavailable, retryAfter: "5", result: ResultUnavailable, src: src,
		answer: map[string]string{"error": message, "request_id": httpserve.RequestID(r)}}
}

// bodyError classifies a failed body read: too large, no room, or a
// broken upload.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, tooBig.Limit)
	case errors.Is(err, errBudgetFull), errors.Is(err, errUploadCut):
		return err
	default:
		return fmt.Errorf("%w: reading body: %w", httpserve.ErrBadRequest, err)
	}
}

// newEvent builds the archive record of a verified delivery. A body the
// provider signed but nobody can parse is quarantined: kept, never
// forwarded, deduplicated on its bytes alone.
func (s *Server) newEvent(r *http.Request, src *source, body []byte, rd reading, now time.Time) *inbox.Event {
	sum := bodyHash(body)
	ev := &inbox.Event{
		Source: src.Name, Provider: src.Provider, Status: inbox.StatusAccepted, Origin: inbox.OriginProvider,
		ReceivedAt: now.UTC(), RemoteAddr: s.clientIP(r), RequestID: httpserve.RequestID(r),
		Headers: keptForArchive(r.Header, src.def.SignatureHeaders), ContentType: r.Header.Get("Content-Type"),
		Body: body, BodySHA256: sum, BodySize: len(body), Verification: rd.proof,
	}
	facts, err := rd.facts, rd.factsErr
	if err != nil {
		ingestLogger(r, src).WithError(err).Warn("authentic delivery is unparseable; quarantined")
		ev.Status, ev.QuarantineReason = inbox.StatusQuarantined, clip(err.Error(), 256)
		ev.DedupKeys = []string{"body:" + sum}
		return ev
	}
	ev.Type, ev.InterviewID, ev.DedupKeys = facts.Event, facts.InterviewID, facts.DedupKeys
	ev.Destinations = (*s.route.Load())(src.Name, facts.Event)
	return ev
}

// refuse is the outcome of a delivery that failed verification: 401,
// except a control request (Koji's endpoint check) which gets the 200 its
// set-up needs. Either way it goes to the rejection log, never the
// archive.
func (s *Server) refuse(r *http.Request, src *source, body []byte, now time.Time, verr error) outcome {
	control := src.def.ControlWithoutSignature != nil && src.def.ControlWithoutSignature(body)
	rej := inbox.Rejection{
		At: now.UTC(), Kind: "rejected", Source: src.Name, Reason: verr.Error(),
		Status: http.StatusUnauthorized, RemoteAddr: s.clientIP(r), RequestID: httpserve.RequestID(r),
		Headers: keepHeaders(r.Header, src.def.SignatureHeaders), BodySHA256: bodyHash(body), BodySize: len(body),
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
			ingestLogger(r, src).WithField("reason", verr.Error()).Info("control request answered 200; not archived")
		}
		return outcome{status: http.StatusOK, result: ResultControl, src: src,
			answer: map[string]any{"control": true, "request_id": httpserve.RequestID(r)}}
	}
	if logIt {
		ingestLogger(r, src).WithField("reason", verr.Error()).Warn("delivery refused")
	}
	// Provider.Verify's errors all answer 401.
	return refused(src, ResultRejected, verr)
}

func bodyHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keptForArchive is what an authentic delivery's event keeps of h: the
// provider's signature headers whole (they verified, and the server's
// max_header_bytes bounds them), the rest bounded by inbox.BoundHeaders,
// so a long proxy chain cannot bloat the archive.
func keptForArchive(h http.Header, signature []string) map[string][]string {
	return inbox.BoundHeaders(keepHeaders(h, signature), signature...)
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
