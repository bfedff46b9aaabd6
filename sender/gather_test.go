package sender_test

import (
	"testing"

	"github.com/porchgw/porch/sender"
)

func TestGatherCompletedMatchesTheDeliveryShape(t *testing.T) {
	body := sender.GatherCompleted(sender.CandidateInterview{
		CandidateInterviewID: "ci-1", CandidateID: "c-1", InterviewID: "i-1", Status: "new_response", TakenAt: "2026-11-23T10:00:00Z",
	})
	want := `{"event":"candidate_interview.completed","timestamp":"2026-11-23T10:00:00Z","data":{"candidateInterviewId":"ci-1","candidateId":"c-1","interviewId":"i-1","status":"new_response","takenAt":"2026-11-23T10:00:00Z"}}`
	if got := string(body); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
