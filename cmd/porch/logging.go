package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/sirupsen/logrus"
)

// newLogger builds the one logger the program uses; packages get it as a
// FieldLogger. level is debug|info|warn|error, format json|text.
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
		l.SetFormatter(&jsonFormatter{timeFormat: logTimeFormat}) // logformat.go
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
// once. A crash loses at most the lines of the write in progress. Past
// maxLogBuffer bytes waiting (the output stalled) writers wait, as they
// did when every line was its own write.
type logWriter struct {
	out  io.Writer
	mu   sync.Mutex
	cond sync.Cond // signalled when a write finishes
	buf  []byte    // waiting to be written
	busy bool      // a write is in progress
	shut bool      // Close has run: write straight through
	wake chan struct{}
	done chan struct{}
	err  error // the last write's error, reported by the next Write
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
	if w.shut {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	for len(w.buf) >= maxLogBuffer {
		w.cond.Wait()
	}
	w.buf = append(w.buf, p...)
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

// Flush waits until everything written so far is out.
func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.buf) > 0 || w.busy {
		w.signal()
		w.cond.Wait()
	}
}

// signal wakes the writing goroutine; w.mu is held and w.shut false.
func (w *logWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close flushes and stops the writing goroutine; later writes go straight
// to the output.
func (w *logWriter) Close() error {
	w.Flush()
	w.mu.Lock()
	if w.shut {
		w.mu.Unlock()
		return nil
	}
	w.shut = true
	close(w.wake)
	w.mu.Unlock()
	<-w.done
	return nil
}
