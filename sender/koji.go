package sender

import (
	"encoding/hex"
	"net/http"
	"time"
)

// Koji's signature: KojiHeader: KojiPrefix + hex HMAC-SHA256 of the raw body.
const (
	KojiHeader = "X-Koji-Signature"
	KojiPrefix = "sha256="
)

// kojiEvents are the event types Koji documents.
var kojiEvents = []string{
	"interview.completed",
	"interview.analysis_ready",
	"interview.quality_scored",
	"interview.failed_quality_gate",
	"study.published",
	"report.generated",
}

func kojiSign(body []byte, secret string, _ time.Time) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(KojiHeader, KojiPrefix+hex.EncodeToString(MAC(secret, body)))
	return h
}

// kojiSampleProject is the project id used in sample bodies.
const kojiSampleProject = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"

type kojiBody struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"`
	ProjectID string `json:"project_id"`
	Data      any    `json:"data"`
}

type kojiInterview struct {
	InterviewID    string         `json:"interview_id"`
	Status         string         `json:"status"`
	AnalysisStatus string         `json:"analysis_status"`
	QualityScore   *float64       `json:"quality_score"`
	Respondent     kojiRespondent `json:"respondent"`
	Stats          kojiStats      `json:"stats"`
	Metadata       map[string]any `json:"metadata"`
	Summary        kojiSummary    `json:"structured_answers_summary"`
}

type kojiRespondent struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	ExternalID  string `json:"external_id"`
}

type kojiStats struct {
	DurationSeconds int `json:"duration_seconds"`
	TotalMessages   int `json:"total_messages"`
}

type kojiSummary struct {
	HasStructuredAnswers bool     `json:"has_structured_answers"`
	QuestionCount        int      `json:"question_count"`
	QuestionTypes        []string `json:"question_types"`
}

// kojiSample returns a body shaped like the documented example (seeds/000).
func kojiSample(event, interviewID string, now time.Time) []byte {
	return stringify(kojiBody{
		Event:     event,
		Timestamp: now.UTC().Format(time.RFC3339),
		ProjectID: kojiSampleProject,
		Data:      kojiSampleData(event, interviewID),
	})
}

func kojiSampleData(event, interviewID string) any {
	switch event {
	case "study.published":
		// The study is named after the sample's interview id, so that a run
		// with a fresh id is a new event and a resend of the same id is not.
		return map[string]any{"study_id": "std_" + interviewID, "status": "published"}
	case "report.generated":
		return map[string]any{"report_id": "rep_" + interviewID, "study_id": kojiSampleProject, "interview_count": 12}
	}
	score := 4.2
	d := kojiInterview{
		InterviewID: interviewID, Status: "completed", AnalysisStatus: "completed", QualityScore: &score,
		Respondent: kojiRespondent{"r_abc123def456", "Jane Doe", "user_12345"},
		Stats:      kojiStats{DurationSeconds: 1530, TotalMessages: 37},
		Metadata:   map[string]any{"segment": "power_users", "source": "onboarding_flow"},
		Summary:    kojiSummary{true, 3, []string{"scale", "single_choice", "yes_no"}},
	}
	switch event {
	case "interview.completed":
		d.AnalysisStatus, d.QualityScore = "pending", nil
	case "interview.failed_quality_gate":
		score = 1.3
		d.Status = "rejected"
	}
	return d
}
