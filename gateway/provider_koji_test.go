package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/porchgw/porch/gateway"
)

const bodyHashLen = len("body:") + 64

func TestKojiInspect(t *testing.T) {
	tests := []inspectCase{
		{"completed", `{"event":"interview.completed","data":{"interview_id":"i1","status":"completed"}}`, "i1",
			[]string{"interview.completed:i1"}},
		{"failed quality gate", `{"event":"interview.failed_quality_gate","study_id":"s1","data":{"interview_id":"i1"}}`, "i1",
			[]string{"interview.failed_quality_gate:i1"}},
		{"analysis ready", `{"event":"interview.analysis_ready","data":{"interview_id":"i1","quality_score":4.5}}`, "i1",
			[]string{"interview.analysis_ready:i1:" + fingerprint(t, `{"interview_id":"i1","quality_score":4.5}`)}},
		{"quality scored", `{"event":"interview.quality_scored","data":{"interview_id":"i1","quality_score":3}}`, "i1",
			[]string{"interview.quality_scored:i1:" + fingerprint(t, `{"interview_id":"i1","quality_score":3}`)}},
		{"report generated", `{"event":"report.generated","data":{"report_id":"r1"}}`, "",
			[]string{"report.generated:r1:" + fingerprint(t, `{"report_id":"r1"}`)}},
		{"unknown event", `{"event":"interview.reopened","data":{"interview_id":"i9"}}`, "i9",
			[]string{"interview.reopened:i9:" + fingerprint(t, `{"interview_id":"i9"}`)}},
		{"no interview id", `{"event":"interview.completed","data":{"status":"completed"}}`, "",
			[]string{"interview.completed:" + fingerprint(t, `{"status":"completed"}`)}},
		{"no data", `{"event":"interview.completed"}`, "",
			[]string{"interview.completed:" + fingerprint(t, `null`)}},
		// Members read as json.Unmarshal into a map reads them.
		{"escaped key, numeric id", `{"event":"interview.completed","data":{"interview_\u0069d":1.50}}`, "1.50",
			[]string{"interview.completed:1.50"}},
		{"duplicate keys: the last wins", `{"event":"x","event":"interview.completed","data":{"interview_id":"i1","interview_id":"i2"}}`, "i2",
			[]string{"interview.completed:i2"}},
		{"data not an object", ` {"event" : "interview.completed", "data" : [1, 2]} `, "",
			[]string{"interview.completed:" + fingerprint(t, `[1,2]`)}},
	}
	runInspectCases(t, "koji", tests)
}

// TestKojiAnalysisReadyIgnoresFormatting: the same logical event with other
// whitespace and a new top-level timestamp gets the same logical key.
func TestKojiAnalysisReadyIgnoresFormatting(t *testing.T) {
	p := mustProvider(t, "koji", gateway.ProviderConfig{Secrets: []string{"s"}})
	a := sampleBody(t, "koji", "interview.analysis_ready")
	b := prettyBody(t, []byte(strings.Replace(string(a), "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", 1)))
	fa, _ := p.Inspect(a)
	fb, _ := p.Inspect(b)
	if fa.DedupKeys[0] != fb.DedupKeys[0] {
		t.Errorf("logical keys differ: %q vs %q", fa.DedupKeys[0], fb.DedupKeys[0])
	}
	if fa.DedupKeys[1] == fb.DedupKeys[1] {
		t.Error("body keys equal for different bodies")
	}
	c := []byte(strings.Replace(string(a), "4.2", "4.3", 1))
	if fc, _ := p.Inspect(c); fc.DedupKeys[0] == fa.DedupKeys[0] {
		t.Error("re-analysis with a new score got the same key")
	}
}

func TestInspectUnparseable(t *testing.T) {
	for _, name := range gateway.ProviderNames() {
		p := mustProvider(t, name, gateway.ProviderConfig{Secrets: []string{"s"}})
		for _, body := range []string{"", "null", "[]", `"x"`, `{"event":1}`, `{"data":{}}`, `{"event":"a"`, `{"event":"a"} {}`} {
			if _, err := p.Inspect([]byte(body)); !errors.Is(err, gateway.ErrUnparseable) {
				t.Errorf("%s: Inspect(%q) error = %v, want ErrUnparseable", name, body, err)
			}
		}
	}
}

func FuzzParseKojiSignature(f *testing.F) {
	f.Add("sha256=32b07a1372852e6d095992cd287c6943a3afe18b34b64276f0f30e46e49cbf3d")
	f.Add("sha256=")
	f.Add("sha1=abc")
	f.Fuzz(func(t *testing.T, v string) {
		sig, err := gateway.ParseKojiSignature(v)
		if err != nil {
			if !errors.Is(err, gateway.ErrMalformedSignature) {
				t.Fatalf("error %v is not ErrMalformedSignature", err)
			}
			return
		}
		if len(sig) != 32 || !strings.HasPrefix(v, "sha256=") {
			t.Fatalf("accepted %q as %d bytes", v, len(sig))
		}
	})
}

func FuzzInspect(f *testing.F) {
	for _, name := range gateway.ProviderNames() {
		def, _ := gateway.Lookup(name)
		for _, e := range def.Events {
			f.Add(name == "koji", sampleBody(f, name, e))
		}
	}
	f.Add(true, []byte(`{"event":"x","data":{"interview_id":1e400}}`))
	f.Fuzz(func(t *testing.T, koji bool, body []byte) {
		name := "gather"
		if koji {
			name = "koji"
		}
		p := mustProvider(t, name, gateway.ProviderConfig{Secrets: []string{"s"}})
		facts, err := p.Inspect(body)
		if err != nil {
			if !errors.Is(err, gateway.ErrUnparseable) {
				t.Fatalf("error %v is not ErrUnparseable", err)
			}
			return
		}
		n := len(facts.DedupKeys)
		if n < 2 || !strings.HasPrefix(facts.DedupKeys[n-1], "body:") || len(facts.DedupKeys[n-1]) != bodyHashLen {
			t.Fatalf("dedup keys %q do not end with the body hash", facts.DedupKeys)
		}
		if !strings.HasPrefix(facts.DedupKeys[0], facts.Event+":") {
			t.Fatalf("key %q lacks event prefix %q", facts.DedupKeys[0], facts.Event)
		}
	})
}

// checkKeys compares the logical keys and checks the trailing body hash.
func checkKeys(t *testing.T, f gateway.Facts, body string, want []string) {
	t.Helper()
	want = append(want, "body:"+sha256Hex(body))
	if diff := cmp.Diff(want, f.DedupKeys); diff != "" {
		t.Errorf("DedupKeys (-want +got):\n%s", diff)
	}
}
