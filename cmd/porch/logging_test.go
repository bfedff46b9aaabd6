package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

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

// lineWriter fails the test if a write is not one whole line or overlaps
// another write, and keeps the lines.
type lineWriter struct {
	t      *testing.T
	inside atomic.Int32
	mu     sync.Mutex
	lines  []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if w.inside.Add(1) != 1 {
		w.t.Error("two log writes at once")
	}
	defer w.inside.Add(-1)
	if n := bytes.Count(p, []byte("\n")); n != 1 || p[len(p)-1] != '\n' {
		w.t.Errorf("a write of %d lines: %q", n, p)
	}
	w.mu.Lock()
	w.lines = append(w.lines, string(p))
	w.mu.Unlock()
	return len(p), nil
}

// Loggers on many goroutines share stderr: each line is written whole, on
// its own, and each goroutine's lines keep their order.
func TestLoggerWritesEachLineWhole(t *testing.T) {
	w := &lineWriter{t: t}
	l, err := newLogger(w, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				l.WithFields(logrus.Fields{"g": g, "i": i}).Info("request")
			}
		})
	}
	wg.Wait()
	if len(w.lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(w.lines), 8*200)
	}
	next := make(map[float64]float64)
	for _, line := range w.lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		g, i := m["g"].(float64), m["i"].(float64)
		if i != next[g] {
			t.Fatalf("goroutine %v: line %v after %v", g, i, next[g]-1)
		}
		next[g]++
	}
}
