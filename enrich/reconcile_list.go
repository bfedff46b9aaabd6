package enrich

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/porchgw/porch/inbox"
)

const listPath = "/qsi/gather/candidate-interviews"

// listItem is one candidate interview of Gather's list, with the fields a
// completed delivery carries. takenAt is not documented on the resource
// in Gather's API reference; completedAt is accepted as an alternative.
type listItem struct {
	ID          string `json:"id"`
	CandidateID string `json:"candidateId"`
	InterviewID string `json:"interviewId"`
	Status      string `json:"status"`
	TakenAt     string `json:"takenAt"`
	CompletedAt string `json:"completedAt"`
}

// listPage is Gather's list envelope.
type listPage struct {
	Data []listItem `json:"data"`
	Meta struct {
		RequestID  string `json:"requestId"`
		Pagination struct {
			Page       int `json:"page"`
			TotalPages int `json:"totalPages"`
		} `json:"pagination"`
	} `json:"meta"`
}

// listPage fetches one page; last is true when it is the final one.
func (r *Reconciler) listPage(ctx context.Context, status string, page int) ([]listItem, bool, error) {
	q := url.Values{"status": {status}, "page": {strconv.Itoa(page)}, "limit": {"100"}}
	ans, err := r.client.get(ctx, listPath, q, noBlock)
	if err != nil {
		return nil, false, fmt.Errorf("reconcile list page %d: %w", page, err)
	}
	lp, err := parseListPage(ans.Raw)
	if err != nil {
		return nil, false, fmt.Errorf("reconcile list page %d: %w", page, err)
	}
	last := len(lp.Data) == 0 || page >= lp.Meta.Pagination.TotalPages
	return lp.Data, last, nil
}

// parseListPage reads a list answer.
func parseListPage(b []byte) (listPage, error) {
	var lp listPage
	if err := json.Unmarshal(b, &lp); err != nil {
		return listPage{}, errBadAnswer
	}
	return lp, nil
}

// completion is a listed interview with its completion time, the
// delivery Gather would have sent for it, and the dedup keys that delivery
// claims (key is the first, the logical one).
type completion struct {
	item listItem
	at   time.Time
	body []byte
	keys []string
	key  string
}

// completion reads it; false when it has no usable completion time, or
// its recreated delivery cannot be keyed.
func (r *Reconciler) completion(it listItem) (completion, bool) {
	if it.TakenAt == "" {
		it.TakenAt = it.CompletedAt
	}
	at, err := time.Parse(time.RFC3339, it.TakenAt)
	if it.ID == "" || err != nil {
		r.m.ReconcileSkipped.Add(1)
		r.log.WithField("interview_id", it.ID).Warn("listed interview has no completion time; skipped")
		return completion{}, false
	}
	c := completion{item: it, at: at}
	// Body and keys come from the code that builds and keys real
	// deliveries, not a copy of its rules, so they cannot disagree.
	c.body, c.keys, err = r.cfg.Recreate(Completion{
		CandidateInterviewID: it.ID, CandidateID: it.CandidateID, InterviewID: it.InterviewID,
		Status: it.Status, TakenAt: it.TakenAt,
	})
	if err != nil || len(c.keys) == 0 {
		r.m.ReconcileSkipped.Add(1)
		r.log.WithField("interview_id", it.ID).WithError(err).Warn("listed interview cannot be keyed; skipped")
		return completion{}, false
	}
	c.key = c.keys[0]
	return c, true
}

// syntheticEvent is the archived form of c's recreated delivery.
func syntheticEvent(source string, c completion, now time.Time) *inbox.Event {
	body := c.body
	sum := sha256.Sum256(body)
	hexSum := hex.EncodeToString(sum[:])
	return &inbox.Event{
		Source: source, Provider: ProviderGather, Type: EventCompleted, InterviewID: c.item.ID,
		Status: inbox.StatusAccepted, Origin: inbox.OriginReconcile, ReceivedAt: now,
		RequestID: "reconcile", ContentType: "application/json",
		BodySHA256: hexSum, BodySize: len(body), Body: body,
		Verification: inbox.Verification{Mode: "none"},
		DedupKeys:    c.keys,
	}
}
