package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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

// slowWriter records what it is given and can be held up or fail.
type slowWriter struct {
	lockedBuffer               // sink_test.go; String reads it
	writes       int           // guarded by lockedBuffer.mu
	gate         chan struct{} // when non-nil, each Write waits for a receive
	err          error
}

func (s *slowWriter) Write(p []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	s.b.Write(p)
	return len(p), s.err
}

func TestLogWriterKeepsEveryLineInOrder(t *testing.T) {
	out := &slowWriter{}
	w := newLogWriter(out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	next := make(map[string]int)
	for _, l := range lines {
		var g string
		var i int
		if _, err := fmt.Sscanf(l, "%s line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("%s: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
	if out.writes >= len(lines) {
		t.Logf("%d writes for %d lines: no batching this run", out.writes, len(lines))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "after close\n")
	if !strings.HasSuffix(out.String(), "after close\n") {
		t.Errorf("a write after Close was not written through")
	}
}

// TestLogWriterBatchesWhileAWriteIsSlow runs in a synctest bubble, where
// synctest.Wait returns once the writer goroutine is blocked in its first
// write (on the gate, a channel of the bubble).
func TestLogWriterBatchesWhileAWriteIsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &slowWriter{gate: make(chan struct{})}
		w := newLogWriter(out)
		fmt.Fprintf(w, "first\n")
		synctest.Wait()
		// The writer goroutine is now held inside the first write; the
		// next lines queue behind it and must go out together in one write.
		for i := range 10 {
			fmt.Fprintf(w, "queued %d\n", i)
		}
		go func() {
			for range 2 {
				out.gate <- struct{}{}
			}
		}()
		w.Flush()
		if out.writes != 2 {
			t.Errorf("%d writes, want 2 (one line, then ten together)", out.writes)
		}
		if n := strings.Count(out.String(), "\n"); n != 11 {
			t.Errorf("%d lines, want 11", n)
		}
		out.gate = nil
		w.Close()
	})
}

func TestLogWriterReportsAWriteError(t *testing.T) {
	out := &slowWriter{err: errors.New("disk full")}
	w := newLogWriter(out)
	defer w.Close()
	fmt.Fprintf(w, "a\n")
	w.Flush()
	if _, err := fmt.Fprintf(w, "b\n"); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("second write: %v, want the first write's error", err)
	}
}

func TestNewLoggerWritesJSONLines(t *testing.T) {
	var b bytes.Buffer
	l, err := newLogger(&b, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.WithField("status", 200).Info("request")
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, b.Bytes())
	}
	want := map[string]any{"level": "info", "msg": "request", "status": 200.0}
	delete(m, "time")
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}
}

// Close, Flush and writers waiting for room may all meet at shutdown (a
// second signal flushes while the deferred Close runs): nothing panics,
// and every line gets out.
func TestLogWriterCloseRacingWritersAndFlush(t *testing.T) {
	for range 20 {
		out := &slowWriter{}
		w := newLogWriter(out)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var sent sync.Map
		// Close comes once every writer has written a line and the
		// flusher has begun: all of them are at work when it runs.
		var running sync.WaitGroup
		running.Add(5)
		for g := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					line := fmt.Sprintf("g%d line %d\n", g, i)
					if _, err := io.WriteString(w, line); err == nil {
						sent.Store(line, true)
					}
					if i == 0 {
						running.Done()
					}
				}
			})
		}
		wg.Go(func() {
			running.Done() // before its first Flush, which waits for the writes before it
			for {
				select {
				case <-stop:
					return
				default:
					w.Flush()
				}
			}
		})
		running.Wait()
		w.Close()
		close(stop)
		wg.Wait()
		got := make(map[string]bool)
		for _, l := range strings.SplitAfter(out.String(), "\n") {
			got[l] = true
		}
		sent.Range(func(k, _ any) bool {
			if !got[k.(string)] {
				t.Fatalf("lost %q", k)
			}
			return true
		})
	}
}
