package sender

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// GatherHeader carries Gather's signature: t=<ts>,v1=<hex HMAC-SHA256 of
// "<ts>.<body>">.
const GatherHeader = "X-Qualifi-Signature"

// gatherEvents are the event types Gather documents.
var gatherEvents = []string{
	"candidate_interview.completed",
	"candidate_interview.status_changed",
	"question.audio_generated",
	"interview.created",
	"interview.updated",
}

func gatherSign(body []byte, secret string, now time.Time) http.Header {
	t := strconv.FormatInt(now.Unix(), 10)
	mac := MAC(secret, []byte(t+"."), body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(GatherHeader, "t="+t+",v1="+hex.EncodeToString(mac))
	return h
}

type gatherBody struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// CandidateInterview is the data of Gather's candidate_interview events.
type CandidateInterview struct {
	CandidateInterviewID string `json:"candidateInterviewId"`
	CandidateID          string `json:"candidateId"`
	InterviewID          string `json:"interviewId"` // the interview template
	Status               string `json:"status"`
	TakenAt              string `json:"takenAt,omitempty"` // RFC 3339
}

// GatherCompleted returns the candidate_interview.completed delivery
// Gather sends for ci, timestamped when ci was taken: the one body both
// the sample and the reconciler's recreated delivery are built from.
func GatherCompleted(ci CandidateInterview) []byte {
	return stringify(gatherBody{Event: "candidate_interview.completed", Timestamp: ci.TakenAt, Data: ci})
}

type gatherInterview struct {
	InterviewID   string `json:"interviewId"`
	Title         string `json:"title"`
	Status        string `json:"status"`
	InterviewType string `json:"interviewType"`
	UpdatedAt     string `json:"updatedAt,omitempty"`
}

type gatherAudio struct {
	QuestionID  string `json:"questionId"`
	InterviewID string `json:"interviewId"`
	AudioURL    string `json:"audioURL"`
	NarratorID  string `json:"narratorId"`
}

// gatherSample returns a body for event. For candidate_interview events
// interviewID is the candidateInterviewId; for the others it is the
// interview template's id.
func gatherSample(event, interviewID string, now time.Time) []byte {
	const candidate, template = "5b0e7c1a-3f2d-4e8b-9a61-2c4d8e7f9a10", "9d3c2b1a-8e7f-4a6b-b5c4-d3e2f1a0b9c8"
	ts := now.UTC().Format(time.RFC3339)
	var data any
	switch event {
	case "candidate_interview.completed":
		return GatherCompleted(CandidateInterview{interviewID, candidate, template, "new_response", ts})
	case "candidate_interview.status_changed":
		data = CandidateInterview{interviewID, candidate, template, "has_reviewed", ""}
	case "interview.created":
		data = gatherInterview{interviewID, "Customer Support Specialist", "active", "standard", ""}
	case "interview.updated":
		data = gatherInterview{interviewID, "Customer Support Specialist", "active", "standard", ts}
	case "question.audio_generated":
		q := "q-" + interviewID
		data = gatherAudio{q, interviewID, "https://cdn.qualifi.hr/audio/" + q + ".mp3", "narrator-1"}
	default:
		data = map[string]any{"interviewId": interviewID}
	}
	return stringify(gatherBody{Event: event, Timestamp: ts, Data: data})
}
