package enrich

import (
	"errors"
	"time"

	"github.com/porchgw/porch/inbox"
)

// settled returns the outcome rec gives now, or false when a fetch is due.
func (s *source) settled(rec inbox.Enrichment, now time.Time) (Outcome, bool) {
	switch rec.Status {
	case inbox.EnrichOK, inbox.EnrichIncomplete:
		return Outcome{Interview: rec.Interview, Header: enrichmentHeader(rec.Status)}, true
	case inbox.EnrichFailed:
		if s.OnFailure == OnFailureForward {
			return Outcome{Header: enrichmentHeader(rec.Status)}, true
		}
	case "":
		return Outcome{}, false
	}
	if rec.NextAt.After(now) {
		return Outcome{WaitUntil: rec.NextAt}, true
	}
	return Outcome{}, false
}

func enrichmentHeader(status string) map[string][]string {
	return map[string][]string{HeaderEnrichment: {status}}
}

// apply folds the result of one fetch into rec. It is pure.
func (s *source) apply(rec inbox.Enrichment, ans answer, err error, now time.Time) inbox.Enrichment {
	rec.Attempts++
	rec.UpdatedAt = now
	if rec.FirstAt.IsZero() {
		rec.FirstAt = now
	}
	rec.NextAt = time.Time{}
	if err != nil {
		return s.applyError(rec, err, now)
	}
	rec.Interview, rec.FetchedAt, rec.ProviderRequestID, rec.LastError = ans.Data, now, ans.RequestID, ""
	if !ans.Processing {
		rec.Status = inbox.EnrichOK
		return rec
	}
	rec.Refetches++
	if next := s.nextRefetch(rec.FirstAt, rec.Refetches); !next.IsZero() {
		rec.Status, rec.NextAt = inbox.EnrichProcessing, next
		return rec
	}
	rec.Status = inbox.EnrichIncomplete
	return rec
}

func (s *source) applyError(rec inbox.Enrichment, err error, now time.Time) inbox.Enrichment {
	rec.LastError = err.Error()
	var ae *APIError
	if errors.As(err, &ae) && ae.RequestID != "" {
		rec.ProviderRequestID = ae.RequestID
	}
	switch {
	case s.OnFailure == OnFailureHold:
		rec.Status, rec.NextAt = inbox.EnrichFailed, now.Add(s.HoldBackoff(rec.Attempts))
	case len(rec.Interview) > 0: // a processing record was fetched before: better than none
		rec.Status = inbox.EnrichIncomplete
	default:
		rec.Status = inbox.EnrichFailed
	}
	return rec
}

// nextRefetch is the time of re-fetch n (1-based) after first, or zero
// when the schedule, capped by MaxWait, has none left.
func (s *source) nextRefetch(first time.Time, n int) time.Time {
	if n > len(s.Refetch) || s.Refetch[n-1] > s.MaxWait {
		return time.Time{}
	}
	return first.Add(s.Refetch[n-1])
}
