package gateway_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/sender"
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
		// No id in data: a study or report event takes the envelope's
		// study id; an interview event never does (a study has many
		// interviews), and one with no id at all is keyed by its time.
		{"study published", `{"event":"study.published","project_id":"p1","data":{"status":"live"}}`, "",
			[]string{"study.published:p1:" + fingerprint(t, `{"status":"live"}`)}},
		{"study published, study_id", `{"event":"study.published","study_id":"s1","project_id":"p1","data":{}}`, "",
			[]string{"study.published:s1:" + fingerprint(t, `{}`)}},
		{"report without ids", `{"event":"report.generated","data":{"status":"done"}}`, "",
			[]string{"report.generated:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"status":"done"}`)}},
		{"no interview id", `{"event":"interview.completed","project_id":"p1","data":{"status":"completed"}}`, "",
			[]string{"interview.completed:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"status":"completed"}`)}},
		{"interview event with only a study id", `{"event":"interview.analysis_ready","data":{"study_id":"s1","x":1}}`, "",
			[]string{"interview.analysis_ready:at:2024-01-01T00:00:00Z:" + fingerprint(t, `{"study_id":"s1","x":1}`)}},
		{"no data", `{"event":"interview.completed"}`, "",
			[]string{"interview.completed:at:2024-01-01T00:00:00Z:" + fingerprint(t, `null`)}},
		// Members read as json.Unmarshal into a map reads them; numbers
		// as JSON.stringify writes them.
		{"escaped key, numeric id", `{"event":"interview.completed","data":{"interview_\u0069d":1.50}}`, "1.5",
			[]string{"interview.completed:1.5"}},
		{"duplicate keys: the last wins", `{"event":"x","event":"interview.completed","data":{"interview_id":"i1","interview_id":"i2"}}`, "i2",
			[]string{"interview.completed:i2"}},
		{"data not an object", ` {"event" : "interview.completed", "data" : [1, 2]} `, "",
			[]string{"interview.completed:at:2024-01-01T00:00:00Z:" + fingerprint(t, `[1,2]`)}},
	}
	// Koji bodies without a timestamp are quarantined (see below); these
	// cases are about keys, so each gets one.
	for i := range tests {
		tests[i].body = strings.Replace(tests[i].body, `{"event"`, `{"timestamp":"2024-01-01T00:00:00Z","event"`, 1)
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
		for _, body := range []string{"", "null", "[]", `"x"`, `{"event":1}`, `{"event":null}`, `{"event":""}`, `{"data":{}}`, `{"event":"a"`, `{"event":"a"} {}`} {
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

// TestKojiBodyTimestamp reads the top-level timestamp in every form Koji
// might write it, and refuses ages outside [-MaxFutureSkew, maxAge].
func TestKojiBodyTimestamp(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, ts string // ts: the timestamp member's JSON value, "" for none
		want     error  // nil: accepted
		unit     string // "": no timestamp recorded
		skewMS   int64
	}{
		{"rfc3339", `"2024-01-01T00:00:00Z"`, nil, "rfc3339", 0},
		{"rfc3339 offset and fraction", `"2024-01-01T01:00:00.5+01:00"`, nil, "rfc3339", -500},
		{"unix seconds", `1704067200`, nil, "s", 0},
		{"unix seconds as string", `"1704067140"`, nil, "s", 60000},
		{"unix seconds, exponent", `1.7040672e9`, nil, "s", 0},
		{"unix seconds with fraction", `1704067199.75`, nil, "s", 250},
		{"unix milliseconds", `1704067200000`, nil, "ms", 0},
		{"unix milliseconds as string", `"1704067199000"`, nil, "ms", 1000},
		{"escaped string", `"2024-01-01T00:00:00\u005a"`, nil, "rfc3339", 0},
		{"25 hours old", `"2023-12-30T23:00:00Z"`, gateway.ErrStaleTimestamp, "", 0},
		{"6 minutes ahead", `"2024-01-01T00:06:00Z"`, gateway.ErrStaleTimestamp, "", 0},
		{"year 9999", `"9999-12-31T23:59:59Z"`, gateway.ErrStaleTimestamp, "", 0},
		{"epoch", `0`, gateway.ErrStaleTimestamp, "", 0},
		{"negative", `-1704067200`, gateway.ErrStaleTimestamp, "", 0},
		{"huge milliseconds", `9000000000000000`, gateway.ErrStaleTimestamp, "", 0},
		// No usable timestamp: accepted here, quarantined by Inspect.
		{"absent", ``, nil, "", 0},
		{"null", `null`, nil, "", 0},
		{"empty string", `""`, nil, "", 0},
		{"words", `"yesterday"`, nil, "", 0},
		{"object", `{"at":1704067200}`, nil, "", 0},
		{"too large for a float", `1e400`, nil, "", 0},
		{"beyond whole milliseconds", `1e16`, nil, "", 0},
		{"true", `true`, nil, "", 0},
	}
	def, _ := gateway.Lookup("koji")
	p := mustProvider(t, "koji", gateway.ProviderConfig{Secrets: []string{"s"}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"event":"interview.completed",`
			if tc.ts != "" {
				body += `"timestamp":` + tc.ts + `,`
			}
			body += `"data":{"interview_id":"i1"}}`
			v, err := p.Verify(sender.Sign(def.Name, []byte(body), "s", now), []byte(body), now)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Verify error %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.TimestampUnit != tc.unit || v.SkewMillis != tc.skewMS {
				t.Errorf("unit %q skew %d, want %q %d", v.TimestampUnit, v.SkewMillis, tc.unit, tc.skewMS)
			}
			_, ierr := p.Inspect([]byte(body))
			if quarantine := tc.unit == ""; quarantine != errors.Is(ierr, gateway.ErrUnparseable) {
				t.Errorf("Inspect error %v; want unparseable: %v", ierr, quarantine)
			}
		})
	}
}

func TestKojiMaxBodyAge(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	def, _ := gateway.Lookup("koji")
	p := mustProvider(t, "koji", gateway.ProviderConfig{Secrets: []string{"s"}, MaxBodyAge: 3 * time.Hour})
	for age, want := range map[time.Duration]error{3 * time.Hour: nil, 3*time.Hour + time.Second: gateway.ErrStaleTimestamp} {
		body := sender.Sample(def.Name, "interview.completed", "i1", now.Add(-age))
		if _, err := p.Verify(sender.Sign(def.Name, body, "s", now), body, now); !errors.Is(err, want) {
			t.Errorf("age %s: error %v, want %v", age, err, want)
		}
	}
	if _, err := def.New(gateway.ProviderConfig{Secrets: []string{"s"}, MaxBodyAge: -time.Second}); err == nil {
		t.Error("negative max body age accepted")
	}
}

// FuzzKojiVerify signs arbitrary bodies and checks that Verify never
// accepts a timestamp outside the allowed ages and fails only with
// ErrStaleTimestamp, and that Inspect quarantines what Verify could not
// date.
func FuzzKojiVerify(f *testing.F) {
	def, _ := gateway.Lookup("koji")
	for _, e := range def.Events {
		f.Add(sampleBody(f, "koji", e))
	}
	for _, ts := range []string{`1704067200`, `1.7040672e9`, `"1704067200000"`, `1e400`, `-0`, `"2024-01-01T00:00:00+14:00"`, `9e15`, `-9e15`, `null`, `"\ud800"`} {
		f.Add([]byte(`{"event":"interview.completed","timestamp":` + ts + `,"data":{"interview_id":"i1"}}`))
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := mustProvider(f, "koji", gateway.ProviderConfig{Secrets: []string{"s"}})
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := p.Verify(sender.Sign(def.Name, body, "s", now), body, now)
		if err != nil {
			if !errors.Is(err, gateway.ErrStaleTimestamp) {
				t.Fatalf("error %v is not ErrStaleTimestamp", err)
			}
			if _, _, _, rerr := gateway.Read(p, sender.Sign(def.Name, body, "s", now), body, now); fmt.Sprint(rerr) != fmt.Sprint(err) {
				t.Fatalf("one parse refused with %v, Verify with %v", rerr, err)
			}
			return
		}
		skew := time.Duration(v.SkewMillis) * time.Millisecond
		if skew > gateway.DefaultMaxBodyAge || skew < -gateway.MaxFutureSkew {
			t.Fatalf("accepted skew %s", skew)
		}
		facts, ierr := p.Inspect(body)
		if v.TimestampUnit == "" && ierr == nil {
			t.Fatal("a body Verify could not date was not quarantined")
		}
		// The gateway verifies and inspects on one parse: the same outcome.
		rv, rf, rferr, rerr := gateway.Read(p, sender.Sign(def.Name, body, "s", now), body, now)
		if rerr != nil || !cmp.Equal(rv, v) || !cmp.Equal(rf, facts) || fmt.Sprint(rferr) != fmt.Sprint(ierr) {
			t.Fatalf("one parse: %+v %+v %v %v; Verify then Inspect: %+v %+v %v", rv, rf, rferr, rerr, v, facts, ierr)
		}
	})
}
