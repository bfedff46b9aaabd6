package inbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// marshalChained is the reference appendChained must equal.
func marshalChained(t testing.TB, e *Event) []byte {
	want, err := json.Marshal(chainedOf(e))
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func TestAppendChainedIsEncodingJSON(t *testing.T) {
	base := func() *Event {
		return &Event{
			ID: "01JEXAMPLE0000000000000000", Seq: 42, Source: "koji", Provider: "koji",
			Type: "interview.completed", InterviewID: "iv_1", Status: StatusAccepted, Origin: "webhook",
			ReceivedAt: time.Date(2026, 12, 7, 16, 0, 0, 123456789, time.UTC), RemoteAddr: "127.0.0.1",
			Headers:     map[string][]string{"User-Agent": {"Koji/1.0"}, "Content-Type": {"application/json"}},
			ContentType: "application/json", BodySHA256: "ab", BodySize: 120,
			Verification: Verification{Mode: "raw", SecretIndex: 1, Timestamp: "1796600000", TimestampUnit: "s", SkewMillis: -5},
			PrevHash:     GenesisHash,
		}
	}
	cases := map[string]func(e *Event){
		"plain":                func(*Event) {},
		"no headers":           func(e *Event) { e.Headers = nil },
		"empty headers":        func(e *Event) { e.Headers = map[string][]string{} },
		"nil and empty values": func(e *Event) { e.Headers = map[string][]string{"A": nil, "B": {}, "C": {"", "x"}} },
		"many headers": func(e *Event) {
			e.Headers = map[string][]string{}
			for _, k := range []string{"Z", "a", "B", "y", "Q", "r", "M", "n", "E", "f", "G", "h", "I", "j", "K", "l", "O", "p"} {
				e.Headers[k] = []string{k + k}
			}
		},
		"escapes":               func(e *Event) { e.Type = "a\"b\\c<d>e&f\n\t\x00\x1f\x7f" },
		"unicode":               func(e *Event) { e.InterviewID = "Ärger ✓ \u2028 \u2029 😀" },
		"invalid utf-8":         func(e *Event) { e.RemoteAddr = "a\xffb\xc3" },
		"escaped header":        func(e *Event) { e.Headers = map[string][]string{"X-<a>": {"&\xff"}} },
		"omitted verification":  func(e *Event) { e.Verification = Verification{Mode: "none"} },
		"zero event":            func(e *Event) { *e = Event{} },
		"other zone":            func(e *Event) { e.ReceivedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) },
		"large numbers":         func(e *Event) { e.Seq, e.BodySize, e.Verification.SkewMillis = 1<<64-1, -1, -1<<63 },
		"quarantined":           func(e *Event) { e.Status = StatusQuarantined },
		"kept duplicate":        func(e *Event) { e.Status, e.DuplicateOf = StatusDuplicate, "01JFIRST<&>\u2028" },
		"negative secret index": func(e *Event) { e.Verification.SecretIndex = -3 },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := base()
			change(e)
			if got, want := appendChained(nil, e), marshalChained(t, e); !bytes.Equal(got, want) {
				t.Fatalf("appendChained\n got %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzAppendChained(f *testing.F) {
	f.Add("01J", uint64(1), "koji", "interview.completed", "iv_1", "User-Agent", "Koji/1.0", "1796600000", int64(3), int64(1796600000123))
	f.Add("", uint64(0), "", "", "", "", "", "", int64(0), int64(0))
	f.Add("<&>", uint64(1<<63), "a\xffb", "\u2028", "\"\\", "X\x00", "\x7f\x80", "😀", int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, id string, seq uint64, source, typ, interview, hname, hval, ts string, skew, nanos int64) {
		e := &Event{
			ID: id, Seq: seq, Source: source, Provider: source, Type: typ, InterviewID: interview,
			Status: Status(hval), Origin: Origin(hname), ReceivedAt: time.Unix(skew, nanos), RemoteAddr: ts,
			Headers: map[string][]string{hname: {hval, ts}, typ: nil}, ContentType: hval, BodySHA256: id,
			BodySize: int(skew), Verification: Verification{Mode: hname, SecretIndex: int(seq % 7), Timestamp: ts, TimestampUnit: hval, SkewMillis: skew},
			PrevHash: typ,
		}
		if nanos%3 == 0 {
			e.Headers = nil
		}
		if seq%2 == 1 {
			e.DuplicateOf = interview
		}
		if got, want := appendChained(nil, e), marshalChained(t, e); !bytes.Equal(got, want) {
			t.Fatalf("appendChained\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkChainHash(b *testing.B) {
	e := &Event{
		ID: "01JEXAMPLE0000000000000000", Seq: 42, Source: "koji", Provider: "koji",
		Type: "interview.completed", InterviewID: "iv_1", Status: StatusAccepted, Origin: "webhook",
		ReceivedAt: time.Date(2026, 12, 7, 16, 0, 0, 123456789, time.UTC), RemoteAddr: "127.0.0.1",
		Headers:     map[string][]string{"User-Agent": {"Koji/1.0"}, "Content-Type": {"application/json"}},
		ContentType: "application/json", BodySHA256: "abababababababababababababababababababababababababababababababab", BodySize: 120,
		Verification: Verification{Mode: "raw", Timestamp: "1796600000", TimestampUnit: "s", SkewMillis: 5},
		PrevHash:     GenesisHash,
	}
	b.Run("appendChained", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ChainHash(e)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.Sum256(marshalChained(b, e))
			_ = hex.EncodeToString(sum[:])
		}
	})
}
