package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/porchgw/porch/gateway"
)

func TestGatherInspect(t *testing.T) {
	const ts = `"timestamp":"2024-01-01T00:00:00Z"`
	tests := []inspectCase{
		{"completed", `{"event":"candidate_interview.completed",` + ts + `,"data":{"candidateInterviewId":"ci1","interviewId":"i1","takenAt":"2024-01-01T00:00:00Z"}}`, "ci1",
			[]string{"candidate_interview.completed:ci1:2024-01-01T00:00:00Z"}},
		{"status changed", `{"event":"candidate_interview.status_changed",` + ts + `,"data":{"candidateInterviewId":"ci1","status":"hired"}}`, "ci1",
			[]string{"candidate_interview.status_changed:ci1:hired:2024-01-01T00:00:00Z"}},
		{"interview created", `{"event":"interview.created",` + ts + `,"data":{"interviewId":"i1"}}`, "i1",
			[]string{"interview.created:i1"}},
		{"interview updated with updatedAt", `{"event":"interview.updated",` + ts + `,"data":{"interviewId":"i1","updatedAt":"u1"}}`, "i1",
			[]string{"interview.updated:i1:u1"}},
		{"interview updated without updatedAt", `{"event":"interview.updated",` + ts + `,"data":{"interviewId":"i1"}}`, "i1",
			[]string{"interview.updated:i1:2024-01-01T00:00:00Z"}},
		{"audio with url", `{"event":"question.audio_generated",` + ts + `,"data":{"questionId":"q1","audioURL":"https://a/1.mp3"}}`, "",
			[]string{"question.audio_generated:q1:https://a/1.mp3"}},
		{"audio without url", `{"event":"question.audio_generated",` + ts + `,"data":{"questionId":"q1"}}`, "",
			[]string{"question.audio_generated:q1:2024-01-01T00:00:00Z"}},
		{"unknown event", `{"event":"candidate.created",` + ts + `,"data":{"candidateId":"c1"}}`, "",
			[]string{"candidate.created:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"candidateId":"c1"}`)}},
		{"unknown event without timestamp", `{"event":"candidate.created","data":{"candidateId":"c1"}}`, "",
			[]string{"candidate.created:" + fingerprint(t, `{"candidateId":"c1"}`)}},
		{"completed missing takenAt", `{"event":"candidate_interview.completed",` + ts + `,"data":{"candidateInterviewId":"ci1"}}`, "ci1",
			[]string{"candidate_interview.completed:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"candidateInterviewId":"ci1"}`)}},
		// The interview an event is about depends on its kind: the
		// candidate's interview, or the interview template.
		{"updated names the template", `{"event":"interview.updated",` + ts + `,"data":{"interviewId":"i1","candidateInterviewId":"ci1","updatedAt":"u1"}}`, "i1",
			[]string{"interview.updated:i1:u1"}},
		{"audio names the template", `{"event":"question.audio_generated",` + ts + `,"data":{"interviewId":"i1","candidateInterviewId":"ci1","questionId":"q1","audioURL":"a"}}`, "i1",
			[]string{"question.audio_generated:q1:a"}},
		{"status change without its candidate interview", `{"event":"candidate_interview.status_changed",` + ts + `,"data":{"interviewId":"i1","status":"hired"}}`, "",
			[]string{"candidate_interview.status_changed:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"interviewId":"i1","status":"hired"}`)}},
		{"unknown event names either", `{"event":"candidate.note_added",` + ts + `,"data":{"interviewId":"i1"}}`, "i1",
			[]string{"candidate.note_added:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"interviewId":"i1"}`)}},
	}
	runInspectCases(t, "gather", tests)
}

// TestGatherStatusChangedRepeats: the same status twice at different times
// is two events, not a duplicate.
func TestGatherStatusChangedRepeats(t *testing.T) {
	p := mustProvider(t, "gather", gateway.ProviderConfig{Secrets: []string{"s"}})
	a := `{"event":"candidate_interview.status_changed","timestamp":"2024-01-01T00:00:00Z","data":{"candidateInterviewId":"ci1","status":"archived"}}`
	b := strings.Replace(a, "00:00:00Z", "03:00:00Z", 1)
	fa, _ := p.Inspect([]byte(a))
	fb, _ := p.Inspect([]byte(b))
	if fa.DedupKeys[0] == fb.DedupKeys[0] {
		t.Errorf("both deliveries keyed %q", fa.DedupKeys[0])
	}
}

func FuzzParseGatherSignature(f *testing.F) {
	f.Add("t=1704067200,v1=125f7c66e15b6df3ba97afc661c01dcf67e6e6f145de34dad39c431adad7efd2")
	f.Add("t=1,v1=00,v1=zz")
	f.Add(" , t = 1 ,v0=x")
	f.Fuzz(func(t *testing.T, v string) {
		ts, v1, err := gateway.ParseGatherSignature(v)
		if err != nil {
			if !errors.Is(err, gateway.ErrMalformedSignature) {
				t.Fatalf("error %v is not ErrMalformedSignature", err)
			}
			return
		}
		if ts == "" || len(v1) == 0 {
			t.Fatalf("accepted %q with t=%q and %d v1", v, ts, len(v1))
		}
		for _, sig := range v1 {
			if len(sig) != 32 {
				t.Fatalf("accepted a %d-byte v1", len(sig))
			}
		}
	})
}

// fingerprint is the expected data fingerprint: 16 hex of SHA-256 of the
// JS-canonical data.
func fingerprint(t *testing.T, data string) string {
	t.Helper()
	canon, err := gateway.JSStringify([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return sha256Hex(string(canon))[:16]
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
