package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/sirupsen/logrus"
)

// logTimeFormat stamps each line to the millisecond with its zone offset.
const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// newLogger builds the one logger the program uses; packages get it as a
// FieldLogger. level is debug|info|warn|error, format json|text. JSON
// lines carry "time", "level" and "msg" beside the entry's fields.
func newLogger(w io.Writer, level, format string) (*logrus.Logger, error) {
	l := logrus.New()
	l.SetOutput(w)
	lv, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	l.SetLevel(lv)
	switch format {
	case "json", "":
		l.SetFormatter(&logrus.JSONFormatter{TimestampFormat: logTimeFormat})
	case "text":
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	default:
		return nil, fmt.Errorf("log.format: %q is not json or text", format)
	}
	return l, nil
}

// logWriter hands log lines to a goroutine that writes them out, so that
// a request does not wait for a write(2) of its access-log line before
// the next one can be logged. It is group commit for logs: the lines that
// arrive while one write is in progress go out together in the next, and
// nothing waits on a timer, so under light load each line is written at
// once. A crash loses the lines queued behind the write in progress (at
// most maxLogBuffer bytes). Past
// maxLogBuffer bytes waiting (the output stalled) writers wait, as they
// did when every line was its own write.
type logWriter struct {
	out      io.Writer
	mu       sync.Mutex
	cond     sync.Cond // signalled when a write finishes
	buf      []byte    // waiting to be written
	busy     bool      // a write is in progress
	shut     bool      // Close has run: write straight through
	appended uint64    // bytes ever put in buf
	written  uint64    // bytes of those written out
	wake     chan struct{}
	done     chan struct{}
	err      error // the last write's error, reported by the next Write
}

const maxLogBuffer = 1 << 20

func newLogWriter(out io.Writer) *logWriter {
	w := &logWriter{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.cond.L = &w.mu
	go w.run()
	return w
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.buf) >= maxLogBuffer && !w.shut {
		w.cond.Wait()
	}
	if w.shut {
		w.mu.Unlock()
		<-w.done // after the last queued lines
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	w.appended += uint64(len(p))
	err := w.err
	w.err = nil
	w.signal()
	w.mu.Unlock()
	return len(p), err
}

func (w *logWriter) run() {
	defer close(w.done)
	var spare []byte
	for range w.wake {
		for {
			w.mu.Lock()
			if len(w.buf) == 0 {
				w.mu.Unlock()
				break
			}
			out := w.buf
			w.buf, w.busy = spare[:0], true
			w.mu.Unlock()
			_, err := w.out.Write(out)
			w.mu.Lock()
			w.busy = false
			w.written += uint64(len(out))
			if err != nil {
				w.err = err
			}
			w.cond.Broadcast()
			w.mu.Unlock()
			if cap(out) <= maxLogBuffer {
				spare = out
			} else {
				spare = nil
			}
		}
	}
}

// Flush waits until every line written before the call is out.
func (w *logWriter) Flush() {
	w.mu.Lock()
	for target := w.appended; w.written < target && !w.shut; {
		w.signal()
		w.cond.Wait()
	}
	shut := w.shut
	w.mu.Unlock()
	if shut {
		<-w.done // Close has begun: the goroutine writes the rest on its way out
	}
}

// signal wakes the writing goroutine; w.mu is held.
func (w *logWriter) signal() {
	if w.shut {
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close writes out everything queued and stops the writing goroutine;
// later writes go straight to the output, after the last queued lines.
func (w *logWriter) Close() error {
	w.mu.Lock()
	if w.shut {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	// Whatever is queued the goroutine writes on its way out: it drains
	// the buffer before it sees wake closed. From here writes wait for it.
	w.shut = true
	close(w.wake)
	w.cond.Broadcast() // writers waiting for room write straight through
	w.mu.Unlock()
	<-w.done
	return nil
}
