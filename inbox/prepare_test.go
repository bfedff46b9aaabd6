package inbox

import (
	"encoding/json"
	"testing"
	"time"
)

// prepared is an event carrying s in every text field a sender can
// reach, prepared as an engine prepares it.
func prepared(s string) (ev *Event, headers map[string][]string) {
	headers = map[string][]string{"User-Agent": {s}, s: {"v", s}, "X-Empty": nil}
	ev = &Event{
		ID: "01M98F0K41DJJP70XRKC0K2WY0", Seq: 7, Source: "koji", Provider: "koji", Type: "interview." + s,
		InterviewID: s, Status: StatusAccepted, Origin: OriginProvider, ReceivedAt: time.Unix(1, 2),
		RemoteAddr: s, Headers: headers, ContentType: "application/json; " + s, BodySHA256: s, BodySize: 3,
		Verification: Verification{Mode: "raw", Timestamp: s, TimestampUnit: "rfc3339"},
		PrevHash:     GenesisHash,
	}
	Prepare(ev)
	return ev, headers
}

// hashSurvivesJSON fails unless ev hashes the same once read back from
// its JSON, as the archive (and an export) reads it.
func hashSurvivesJSON(t *testing.T, ev *Event) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := ChainHash(&back), ChainHash(ev); got != want {
		t.Errorf("hash %s once read back, %s as accepted: %s", got, want, b)
	}
}

// A prepared event hashes the same once read back, whatever bytes the
// sender put in its text fields, and the caller's headers are left as
// they were.
func TestPreparedHashSurvivesJSON(t *testing.T) {
	for _, s := range []string{"plain", "bad \xff byte", "\xc3", "cut \xe2\x82", "\ufffd genuine", "<&>\u2028"} {
		ev, headers := prepared(s)
		hashSurvivesJSON(t, ev)
		if got := headers["User-Agent"][0]; got != s {
			t.Errorf("caller's header changed to %q", got)
		}
	}
	ev, _ := prepared("plain")
	ev.Headers = map[string][]string{}
	Prepare(ev)
	hashSurvivesJSON(t, ev)
}

func FuzzPreparedHashSurvivesJSON(f *testing.F) {
	f.Add("plain")
	f.Add("bad \xff byte")
	f.Add("\ufffd\xff")
	f.Fuzz(func(t *testing.T, s string) {
		ev, _ := prepared(s)
		hashSurvivesJSON(t, ev)
	})
}
