package enrich

import (
	"bytes"
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
	c.body = syntheticBody(c)
	// The keys come from the gateway's function, not a copy of its rules,
	// so a reconciled event and a real delivery cannot disagree.
	if c.keys, err = r.cfg.DedupKeys(c.body); err != nil || len(c.keys) == 0 {
		r.m.ReconcileSkipped.Add(1)
		r.log.WithField("interview_id", it.ID).WithError(err).Warn("listed interview cannot be keyed; skipped")
		return completion{}, false
	}
	c.key = c.keys[0]
	return c, true
}

// syntheticBody is the delivery Gather would have sent for c, with the
// same members in the same order, compact as JSON.stringify writes it.
func syntheticBody(c completion) []byte {
	type data struct {
		CandidateInterviewID string `json:"candidateInterviewId"`
		CandidateID          string `json:"candidateId"`
		InterviewID          string `json:"interviewId"`
		Status               string `json:"status"`
		TakenAt              string `json:"takenAt"`
	}
	body := struct {
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
		Data      data   `json:"data"`
	}{EventCompleted, c.item.TakenAt, data{c.item.ID, c.item.CandidateID, c.item.InterviewID, c.item.Status, c.item.TakenAt}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // strings only: cannot fail
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
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
