package gateway_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

// TestGatherReserialisedNumberDedups delivers one Gather event twice to a
// real listener on a real store: as signed, and re-serialised (pretty
// printed, a number rewritten as 1.7966e9) so that it verifies only on the
// canonical path. Both must claim the same dedup key.
func TestGatherReserialisedNumberDedups(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	srv, db := startGateway(t, gateway.Config{
		Now: func() time.Time { return now },
		Sources: []gateway.Source{{Name: "gather", Provider: "gather",
			ProviderConfig: gateway.ProviderConfig{Secrets: []string{gatherSecret}, CanonicalFallback: true}}},
	})
	def, _ := gateway.Lookup("gather")
	compact := []byte(`{"event":"candidate_interview.completed","timestamp":"2026-11-23T09:00:00Z","data":{"candidateInterviewId":"ci-7","candidateId":"c-1","interviewId":"i-1","status":"new_response","takenAt":1796600000}}`)
	rewritten := []byte("{\n  \"event\": \"candidate_interview.completed\",\n  \"timestamp\": \"2026-11-23T09:00:00Z\",\n  \"data\": {\"candidateInterviewId\": \"ci-7\", \"candidateId\": \"c-1\", \"interviewId\": \"i-1\", \"status\": \"new_response\", \"takenAt\": 1.7966e9}\n}")
	h := sender.Sign(def.Name, compact, gatherSecret, now)
	base := "http://" + srv.Addr()
	first := postDelivery(t, nil, base, "gather", compact, h)
	if first.Status != http.StatusOK || first.Duplicate {
		t.Fatalf("first delivery: %+v", first)
	}
	second := postDelivery(t, nil, base, "gather", rewritten, h)
	if second.Status != http.StatusOK || !second.Duplicate || second.ID != first.ID {
		t.Fatalf("re-serialised delivery: %+v, want a duplicate of %s", second, first.ID)
	}
	if _, err := db.LookupDedup("gather", "candidate_interview.completed:ci-7:1796600000"); err != nil {
		t.Errorf("canonical key not claimed: %v", err)
	}
}

// TestDedupKeysUseCanonicalNumbers: every spelling of one number in a key
// field gives the key JSON.stringify's spelling would.
func TestDedupKeysUseCanonicalNumbers(t *testing.T) {
	p := mustProvider(t, "gather", gateway.ProviderConfig{Secrets: []string{"s"}})
	k := mustProvider(t, "koji", gateway.ProviderConfig{Secrets: []string{"s"}})
	for _, tc := range []struct{ written, want string }{
		{`1796600000`, "1796600000"},
		{`1.7966e9`, "1796600000"},
		{`1.7966E+9`, "1796600000"},
		{`17966e5`, "1796600000"},
		{`1796600000.000`, "1796600000"},
		{`-0`, "0"},
		{`1.50`, "1.5"},
		{`1e21`, "1e+21"},
		{`0.0000001`, "1e-7"},
		{`9007199254740993`, "9007199254740992"},
	} {
		body := `{"event":"candidate_interview.completed","data":{"candidateInterviewId":"ci-1","takenAt":` + tc.written + `}}`
		f, err := p.Inspect([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if want := "candidate_interview.completed:ci-1:" + tc.want; f.DedupKeys[0] != want {
			t.Errorf("gather %s: key %q, want %q", tc.written, f.DedupKeys[0], want)
		}
		body = `{"event":"interview.completed","timestamp":"2024-01-01T00:00:00Z","data":{"interview_id":` + tc.written + `}}`
		if f, err = k.Inspect([]byte(body)); err != nil {
			t.Fatal(err)
		}
		if f.InterviewID != tc.want || f.DedupKeys[0] != "interview.completed:"+tc.want {
			t.Errorf("koji %s: interview %q key %q, want %q", tc.written, f.InterviewID, f.DedupKeys[0], tc.want)
		}
	}
	// A number JSON.stringify writes as null is no key part: the event is
	// keyed by its data fingerprint, as when the field is null.
	inf, _ := p.Inspect([]byte(`{"event":"candidate_interview.completed","data":{"candidateInterviewId":"ci-1","takenAt":1e400}}`))
	null, _ := p.Inspect([]byte(`{"event":"candidate_interview.completed","data":{"candidateInterviewId":"ci-1","takenAt":null}}`))
	if inf.DedupKeys[0] != null.DedupKeys[0] {
		t.Errorf("1e400 keyed %q, null keyed %q", inf.DedupKeys[0], null.DedupKeys[0])
	}
}

// FuzzInspectCanonical checks that a body and its JSON.stringify form get
// the same logical dedup key and interview id from both providers, so a
// delivery dedups the same whichever way it was serialised.
func FuzzInspectCanonical(f *testing.F) {
	for _, name := range gateway.ProviderNames() {
		def, _ := gateway.Lookup(name)
		for _, e := range def.Events {
			f.Add(prettyBody(f, sampleBody(f, name, e)))
		}
	}
	f.Add([]byte(`{"event":"candidate_interview.completed","data":{"candidateInterviewId":1.0,"takenAt":1.7966e9}}`))
	f.Add([]byte(`{"event":"interview.updated","timestamp":17e8,"data":{"interviewId":"\u0069-1","updatedAt":-0}}`))
	f.Add([]byte(`{"event":"interview.completed","timestamp":"2024-01-01T00:00:00Z","data":{"interview_id":1e400,"2":1,"1":2}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		canon, err := gateway.JSStringify(body)
		if err != nil {
			return
		}
		for _, name := range gateway.ProviderNames() {
			p := mustProvider(t, name, gateway.ProviderConfig{Secrets: []string{"s"}})
			a, errA := p.Inspect(body)
			b, errB := p.Inspect(canon)
			if (errA == nil) != (errB == nil) {
				t.Fatalf("%s: Inspect errors differ: %v vs %v", name, errA, errB)
			}
			if errA != nil {
				if !errors.Is(errA, gateway.ErrUnparseable) {
					t.Fatalf("%s: %v", name, errA)
				}
				continue
			}
			if a.Event != b.Event || a.InterviewID != b.InterviewID || a.DedupKeys[0] != b.DedupKeys[0] {
				t.Fatalf("%s: facts differ:\n%+v\n%+v\ncanonical %s", name, a, b, canon)
			}
		}
	})
}

// TestGatherCheapChecksComeFirst sends unauthenticated requests to a real
// listener: whatever the body, a missing or malformed header, an
// unreadable t, or a t outside the tolerance is refused for that reason,
// which shows it was checked before any MAC or re-serialisation of the
// body (BenchmarkVerifyGatherUnsigned measures the cost).
func TestGatherCheapChecksComeFirst(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	srv, db := startGateway(t, gateway.Config{
		Now: func() time.Time { return now },
		Sources: []gateway.Source{{Name: "gather", Provider: "gather",
			ProviderConfig: gateway.ProviderConfig{Secrets: []string{gatherSecret}, CanonicalFallback: true}}},
	})
	def, _ := gateway.Lookup("gather")
	body := prettyBody(t, sender.Sample(def.Name, "candidate_interview.completed", "ci-1", now))
	forged := sender.Sign(def.Name, body, "not-the-secret", now).Get("X-Qualifi-Signature")
	_, v1, _ := strings.Cut(forged, ",")
	for _, tc := range []struct {
		name, header string
		want         error
	}{
		{"missing", "", gateway.ErrMissingSignature},
		{"malformed", "t=1,v1=zz", gateway.ErrMalformedSignature},
		{"unreadable t", "t=soon," + v1, gateway.ErrMalformedSignature},
		{"stale t", fmt.Sprintf("t=%d,%s", now.Add(-time.Hour).Unix(), v1), gateway.ErrStaleTimestamp},
		{"future t", fmt.Sprintf("t=%d,%s", now.Add(time.Hour).Unix(), v1), gateway.ErrStaleTimestamp},
		{"fresh t, forged", forged, gateway.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Qualifi-Signature", tc.header)
			}
			a := postDelivery(t, nil, "http://"+srv.Addr(), "gather", body, h)
			if a.Status != http.StatusUnauthorized || a.Error != tc.want.Error() {
				t.Errorf("answer %+v, want 401 %q", a, tc.want)
			}
		})
	}
	waitRejection(t, db, func(r inbox.Rejection) bool { return strings.Contains(r.Reason, gateway.ErrStaleTimestamp.Error()) })
}

// FuzzGatherVerify checks Verify's order on arbitrary headers and bodies:
// it fails only with the verification sentinels, a body signed now always
// verifies, and a bad signature is reported only for a header whose t
// would have been accepted, so the cheap checks always ran first.
func FuzzGatherVerify(f *testing.F) {
	f.Add("t=1704067200,v1=125f7c66e15b6df3ba97afc661c01dcf67e6e6f145de34dad39c431adad7efd2", []byte(`{"event":"x"}`), false)
	f.Add("t=1704060000,v1=125f7c66e15b6df3ba97afc661c01dcf67e6e6f145de34dad39c431adad7efd2", []byte("{\n \"n\": 1.7966e9\n}"), false)
	f.Add("t=soon,v1=125f7c66e15b6df3ba97afc661c01dcf67e6e6f145de34dad39c431adad7efd2", []byte(`[]`), false)
	f.Add("", []byte(`{"event":"candidate_interview.completed","data":{"takenAt":1796600000}}`), true)
	def, _ := gateway.Lookup("gather")
	now := time.Unix(1704067200, 0)
	p := mustProvider(f, "gather", gateway.ProviderConfig{Secrets: []string{"s"}, CanonicalFallback: true})
	f.Fuzz(func(t *testing.T, header string, body []byte, signed bool) {
		h := http.Header{}
		if signed {
			h = sender.Sign(def.Name, body, "s", now)
		} else if header != "" {
			h.Set("X-Qualifi-Signature", header)
		}
		_, err := p.Verify(h, body, now)
		switch {
		case signed && err != nil:
			t.Fatalf("signed body refused: %v", err)
		case err == nil:
			return
		case errors.Is(err, gateway.ErrBadSignature):
			ts, _, perr := gateway.ParseGatherSignature(h.Get("X-Qualifi-Signature"))
			if perr != nil {
				t.Fatalf("bad signature reported for a malformed header: %v", perr)
			}
			good := http.Header{}
			good.Set("X-Qualifi-Signature", "t="+ts+",v1="+hexMAC("s", ts+"."+string(body)))
			if _, err := p.Verify(good, body, now); err != nil {
				t.Fatalf("bad signature reported for t=%q, which is not acceptable: %v", ts, err)
			}
		case !errors.Is(err, gateway.ErrMissingSignature) && !errors.Is(err, gateway.ErrMalformedSignature) && !errors.Is(err, gateway.ErrStaleTimestamp):
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func hexMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
