package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

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

// A JSON line is one object on one line: the entry's fields beside
// "time" (to the millisecond, with its zone), "level" and "msg", and an
// error field as its message.
func TestNewLoggerWritesJSONLines(t *testing.T) {
	var b bytes.Buffer
	l, err := newLogger(&b, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.WithField("status", 200).WithError(errors.New("disk full")).Info("request\nsplit")
	line, ok := strings.CutSuffix(b.String(), "\n")
	if !ok || strings.Contains(line, "\n") {
		t.Fatalf("want one line ending in a newline, got %q", b.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	ts, _ := m["time"].(string)
	if _, err := time.Parse(logTimeFormat, ts); err != nil {
		t.Errorf("time %q: %v", ts, err)
	}
	want := map[string]any{"level": "info", "msg": "request\nsplit", "status": 200.0, "error": "disk full"}
	delete(m, "time")
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}
}

func TestNewLoggerFormats(t *testing.T) {
	var b bytes.Buffer
	l, err := newLogger(&b, "warn", "text")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("quiet")
	l.WithField("path", "/in/koji").Warn("loud")
	if got := b.String(); !strings.Contains(got, "level=warning msg=loud path=/in/koji") || strings.Contains(got, "quiet") {
		t.Errorf("text line %q", got)
	}
	if _, err := newLogger(&b, "info", "xml"); err == nil {
		t.Error("log.format xml accepted")
	}
	if _, err := newLogger(&b, "loud", "json"); err == nil {
		t.Error("log.level loud accepted")
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
