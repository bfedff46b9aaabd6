package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// formatBoth renders one entry with our formatter and with logrus's own.
func formatBoth(t testing.TB, msg string, f logrus.Fields) (ours, theirs []byte) {
	t.Helper()
	e := &logrus.Entry{
		Logger: logrus.New(), Data: f, Message: msg, Level: logrus.InfoLevel,
		Time: time.Date(2026, 11, 23, 17, 4, 5, 678900000, time.UTC),
	}
	ours, err := (&jsonFormatter{timeFormat: logTimeFormat}).Format(e)
	if err != nil {
		t.Fatal(err)
	}
	ours = bytes.Clone(ours)
	theirs, err = (&logrus.JSONFormatter{TimestampFormat: logTimeFormat}).Format(e)
	if err != nil {
		t.Fatalf("logrus: %v", err)
	}
	return ours, theirs
}

type stringer struct{ A int }

func TestJSONFormatterMatchesLogrus(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		f    logrus.Fields
	}{
		{"empty", "request", nil},
		{"access line", "request", logrus.Fields{
			"request_id": "01J", "method": "POST", "path": "/in/koji", "status": 200, "bytes": 43,
			"remote": "127.0.0.1", "duration_ms": 1.234, "duplicate": false, "secret_index": 0,
		}},
		{"escapes", "a \"quoted\"\nline\t<b>&", logrus.Fields{"path": "/in/\x00\x1f\\<>&\u2028\u2029", "bad utf8": "a\xffb\xc3"}},
		{"clashing keys", "m", logrus.Fields{"time": "t", "msg": 1, "level": true, "logrus_error": "e"}},
		{"clash over a renamed key", "m", logrus.Fields{"time": "t", "fields.time": "u", "fields.msg": "kept"}},
		{"numbers", "n", logrus.Fields{
			"i64": int64(-1 << 62), "u64": uint64(1 << 63), "i32": int32(-5), "u32": uint32(7), "u": uint(9),
			"small": 1e-7, "big": 1e21, "zero": 0.0, "neg": -2.5, "f32": float32(1.5), "dur": 1500 * time.Millisecond,
		}},
		{"other values", "o", logrus.Fields{
			"err": errors.New("boom <x>"), "nil": nil, "list": []string{"a", "b"}, "struct": stringer{3},
			"time": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "map": map[string]int{"b": 2, "a": 1},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours, theirs := formatBoth(t, c.msg, c.f)
			if !bytes.Equal(ours, theirs) {
				t.Errorf("ours   %s\nlogrus %s", ours, theirs)
			}
		})
	}
}

func TestJSONFormatterQuotesWhatJSONRefuses(t *testing.T) {
	e := &logrus.Entry{Logger: logrus.New(), Data: logrus.Fields{"nan": math.NaN(), "ch": make(chan int)}, Message: "x"}
	b, err := (&jsonFormatter{timeFormat: logTimeFormat}).Format(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	if m["nan"] != "NaN" || !strings.HasPrefix(fmt.Sprint(m["ch"]), "0x") {
		t.Errorf("got %v", m)
	}
}

// FuzzJSONFormatter checks that any message and string field comes out
// byte for byte as logrus would write it.
func FuzzJSONFormatter(f *testing.F) {
	f.Add("request", "path", "/in/koji")
	f.Add("a\nb", "k\"", "\xff<\u2028>")
	f.Add("", "time", "")
	f.Fuzz(func(t *testing.T, msg, key, val string) {
		ours, theirs := formatBoth(t, msg, logrus.Fields{key: val, "n": len(val)})
		if !bytes.Equal(ours, theirs) {
			t.Errorf("ours   %s\nlogrus %s", ours, theirs)
		}
	})
}

// BenchmarkFormatAccessLine formats a delivery's access-log line with
// jsonFormatter and with logrus.JSONFormatter.
func BenchmarkFormatAccessLine(b *testing.B) {
	f := logrus.Fields{
		"component": "gateway", "request_id": "467780e9d1677ee5", "method": "POST", "path": "/in/koji", "status": 200,
		"bytes": 54, "remote": "127.0.0.1", "duration_ms": 6.478, "source": "koji", "event": "interview.completed",
		"event_id": "01M98CQGK7JSE8NX480C7B11ET", "duplicate": false, "secret_index": 0, "sig_mode": "raw",
	}
	for _, fm := range []struct {
		name string
		f    logrus.Formatter
	}{{"porch", &jsonFormatter{timeFormat: logTimeFormat}}, {"logrus", &logrus.JSONFormatter{TimestampFormat: logTimeFormat}}} {
		b.Run(fm.name, func(b *testing.B) {
			e := &logrus.Entry{Logger: logrus.New(), Data: f, Message: "request", Level: logrus.InfoLevel, Time: time.Now()}
			for b.Loop() {
				e.Buffer = new(bytes.Buffer)
				if _, err := fm.f.Format(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
