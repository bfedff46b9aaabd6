package enrich

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/singleflight"
)

// HeaderEnrichment is added to every forwarded request of an event that
// enrichment applies to: "ok", "incomplete" (the record never finished
// processing and is forwarded as it was) or "failed" (no record: the API
// kept failing).
const HeaderEnrichment = "X-Porch-Enrichment"

// Store keeps enrichment records; every inbox.Store implements it. Both methods
// are safe for concurrent use.
type Store interface {
	// Enrichment returns event id's record, or an error wrapping
	// inbox.ErrNotFound.
	Enrichment(id string) (inbox.Enrichment, error)
	// PutEnrichment durably replaces the record of r.EventID.
	PutEnrichment(r inbox.Enrichment) error
}

// Outcome is what enrichment adds to one forwarding attempt. Its fields
// match forward.PrepareResult one for one, so cmd converts it with a type
// conversion.
type Outcome struct {
	// Interview is the record to send as the envelope's "interview";
	// empty when there is none.
	Interview json.RawMessage
	// Header is added to the request (HeaderEnrichment).
	Header map[string][]string
	// WaitUntil, when set, postpones the attempt to that time without
	// spending it: the record is still processing, the fetch is held
	// after failing, or the rate limit is exhausted.
	WaitUntil time.Time
}

// Enricher fetches the full interview record of an event before it is
// forwarded, and keeps it. It is safe for concurrent use.
type Enricher struct {
	cfg     Config
	store   Store
	sources map[string]*source
	log     logrus.FieldLogger
	metrics *Metrics

	byEvent     singleflight.Group // one Prepare at a time per event
	byInterview singleflight.Group // one fetch at a time per interview
}

// source is one configured source and its API client.
type source struct {
	SourceConfig
	client *Client
}

// New validates cfg and builds the clients. Sources using the same
// provider and key share one rate limiter.
func New(cfg Config, store Store) (*Enricher, error) {
	cfg.Sources = slices.Clone(cfg.Sources)
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Enricher{
		cfg: cfg, store: store, sources: map[string]*source{}, metrics: &Metrics{},
		log: cfg.Logger.WithField("component", "enrich"),
	}
	limiters := map[string]*Limiter{}
	for _, sc := range cfg.Sources {
		lk := sc.Provider + "/" + keyID(sc.APIKey)
		if limiters[lk] == nil {
			limiters[lk] = NewLimiter(apis[sc.Provider].windows, cfg.Now, cfg.Sleep)
		}
		e.sources[sc.Name] = &source{SourceConfig: sc, client: e.newClient(sc, limiters[lk])}
	}
	return e, nil
}

func (e *Enricher) newClient(sc SourceConfig, lim *Limiter) *Client {
	return &Client{
		api: apis[sc.Provider], base: strings.TrimRight(sc.BaseURL, "/"), key: sc.APIKey, org: sc.OrganizationID, auth: sc.Auth,
		http: e.cfg.HTTPClient, lim: lim, timeout: sc.Timeout, retries: sc.Retries, backoff: DefaultBackoff,
		now: e.cfg.Now, sleep: e.cfg.Sleep, metrics: e.metrics,
		log: e.log.WithFields(logrus.Fields{"source": sc.Name, "provider": sc.Provider}),
	}
}

// keyID names a key without revealing it.
func keyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// Metrics returns the enricher's counters (shared by its reconcilers).
func (e *Enricher) Metrics() *Metrics { return e.metrics }

// Prepare returns what to add to a forwarding attempt of ev: nothing when
// enrichment does not apply to it; otherwise the stored record, fetching
// it first when there is none yet or a re-fetch is due. Every attempt of
// an event, to every destination, gets the same record once it is
// settled. An error (the store failed, or ctx ended) means "try later".
func (e *Enricher) Prepare(ctx context.Context, ev *inbox.Event) (Outcome, error) {
	s := e.sources[ev.Source]
	if s == nil || ev.InterviewID == "" || ev.Status != inbox.StatusAccepted || !s.wants(ev.Type) {
		return Outcome{}, nil
	}
	v, err, _ := e.byEvent.Do(ev.ID, func() (any, error) { return e.prepare(ctx, s, ev) })
	if err != nil {
		return Outcome{}, err
	}
	out := v.(Outcome)
	out.Header = maps.Clone(out.Header)
	return out, nil
}

// wants reports whether events of type t are enriched.
func (s *source) wants(t string) bool {
	for _, g := range s.Events {
		if inbox.MatchGlob(g, t) {
			return true
		}
	}
	return false
}

func (e *Enricher) prepare(ctx context.Context, s *source, ev *inbox.Event) (Outcome, error) {
	rec, err := e.store.Enrichment(ev.ID)
	switch {
	case errors.Is(err, inbox.ErrNotFound):
		rec = inbox.Enrichment{EventID: ev.ID, Source: ev.Source, InterviewID: ev.InterviewID}
	case err != nil:
		return Outcome{}, fmt.Errorf("enrich %s: %w", ev.ID, err)
	}
	now := e.cfg.Now()
	if out, ok := s.settled(rec, now); ok {
		return out, nil
	}
	ans, ferr := e.fetch(ctx, s, ev.InterviewID)
	var de *DeferredError
	if errors.As(ferr, &de) && (s.OnFailure == OnFailureHold || !de.Until.After(ev.ReceivedAt.Add(s.MaxWait))) {
		return Outcome{WaitUntil: de.Until}, nil // not an attempt
	}
	if ferr != nil && ctx.Err() != nil {
		return Outcome{}, fmt.Errorf("enrich %s: %w", ev.ID, ctx.Err())
	}
	now = e.cfg.Now() // the fetch may have waited for the rate limit
	rec = s.apply(rec, ans, ferr, now)
	if err := e.store.PutEnrichment(rec); err != nil {
		e.metrics.StoreErrors.Add(1)
		return Outcome{}, fmt.Errorf("enrich %s: %w", ev.ID, err)
	}
	e.record(s, rec)
	out, _ := s.settled(rec, now)
	return out, nil
}

// fetch gets the record of interview id, one request at a time per
// interview: concurrent callers share the answer.
func (e *Enricher) fetch(ctx context.Context, s *source, id string) (answer, error) {
	v, err, _ := e.byInterview.Do(s.Name+"\x00"+id, func() (any, error) {
		return s.client.get(ctx, s.client.api.fetchPath(id), nil, e.cfg.MaxBlock)
	})
	ans, _ := v.(answer)
	return ans, err
}

// record counts and logs a freshly stored record.
func (e *Enricher) record(s *source, rec inbox.Enrichment) {
	log := e.log.WithFields(logrus.Fields{
		"source": rec.Source, "event_id": rec.EventID, "interview_id": rec.InterviewID, "status": rec.Status,
		"attempts": rec.Attempts, "provider_request_id": rec.ProviderRequestID,
	})
	switch {
	case rec.Status == inbox.EnrichOK:
		e.metrics.Enriched.Add(1)
		log.Debug("interview record fetched")
	case rec.Status == inbox.EnrichProcessing:
		e.metrics.Processing.Add(1)
		log.WithField("next_at", rec.NextAt).Info("interview record still processing; re-fetch scheduled")
	case rec.Status == inbox.EnrichIncomplete:
		e.metrics.Incomplete.Add(1)
		log.WithField("last_error", rec.LastError).Warn("interview record incomplete; forwarding it as it is")
	case s.OnFailure == OnFailureHold:
		e.metrics.Held.Add(1)
		log.WithFields(logrus.Fields{"last_error": rec.LastError, "next_at": rec.NextAt}).Warn("interview fetch failed; event held")
	default:
		e.metrics.Failed.Add(1)
		log.WithField("last_error", rec.LastError).Warn("interview fetch failed; forwarding without it")
	}
}
