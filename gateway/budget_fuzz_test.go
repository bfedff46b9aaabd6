package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzBodyBudget drives the in-flight budget with arbitrary claims,
// growths, completions and releases, as hostile uploads could, and checks
// that it never hands out more than its limit, cuts only uploads still
// arriving that started before the one that needed room, and accounts
// for every byte once all are released.
func FuzzBodyBudget(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 1, 2, 3, 0, 1, 3}, int64(64<<10))
	f.Add([]byte{0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3}, int64(1<<10))
	f.Fuzz(func(t *testing.T, ops []byte, limit int64) {
		limit = min(max(limit, 1), 1<<30)
		b := newBudget(limit)
		type live struct {
			c        *bodyClaim
			received bool
			aborted  bool
		}
		var claims []*live
		done, cancel := context.WithCancel(context.Background())
		cancel() // growth never waits: no room is an immediate errBudgetFull
		for i, op := range ops {
			pick := func() *live {
				if len(claims) == 0 {
					return nil
				}
				return claims[int(op>>2)%len(claims)]
			}
			switch op % 4 {
			case 0:
				l := &live{}
				l.c = b.claim(func() { l.aborted = true })
				claims = append(claims, l)
			case 1:
				if l := pick(); l != nil && !l.received {
					_ = l.c.grow(done, int64(op)*int64(i+1)*97%(limit+1)+1)
					for _, o := range claims {
						if o.aborted && (o.c.seq > l.c.seq || o.received) {
							t.Fatalf("cut claim %d (received %v) for claim %d", o.c.seq, o.received, l.c.seq)
						}
					}
				}
			case 2:
				if l := pick(); l != nil {
					l.c.received()
					l.received = true
				}
			case 3:
				if l := pick(); l != nil {
					l.c.release()
					claims = deleteClaim(claims, l)
				}
			}
			if b.inUse() > limit || b.inUse() < 0 {
				t.Fatalf("budget hands out %d of %d", b.inUse(), limit)
			}
			kept := claims[:0]
			for _, l := range claims { // a cut upload's handler gives its room back
				if l.aborted {
					l.c.release()
					continue
				}
				kept = append(kept, l)
			}
			claims = kept
		}
		for _, l := range claims {
			l.c.release()
		}
		if b.inUse() != 0 || b.cutting != 0 || len(b.reading) != 0 {
			t.Fatalf("after every release: used %d, cutting %d, %d reading", b.inUse(), b.cutting, len(b.reading))
		}
	})
}

func deleteClaim[T comparable](list []T, x T) []T {
	for i, v := range list {
		if v == x {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// FuzzBodyRead reads arbitrary bodies in arbitrary pieces: readAll returns
// exactly the bytes sent when they fit the limit, an error when they do
// not, and takes room only as the body needs it.
func FuzzBodyRead(f *testing.F) {
	f.Add([]byte(`{"event":"interview.completed"}`), int64(1<<10), true, uint8(0))
	f.Add(make([]byte, 40<<10), int64(40<<10), false, uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, limit int64, declare bool, pieces uint8) {
		limit = min(max(limit, 0), 1<<20)
		var rd io.Reader = bytes.NewReader(body)
		switch pieces % 3 {
		case 1:
			rd = iotest.OneByteReader(rd)
		case 2:
			rd = iotest.HalfReader(rd)
		}
		declared := int64(-1)
		if declare && int64(len(body)) <= limit {
			declared = int64(len(body)) // longer bodies are refused before reading
		}
		rd = &limitReader{rd: rd, n: limit}
		b := newBudget(max(limit, 1))
		c := b.claim(func() {})
		got, err := c.readAll(func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, rd, declared, limit)
		if int64(len(body)) > limit {
			if err == nil {
				t.Fatalf("%d bytes over a %d limit read without error", len(body), limit)
			}
		} else if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read %d of %d bytes (%v)", len(got), len(body), err)
		}
		// Room follows the body: its declared size, or when undeclared at
		// most twice what arrived (the buffer doubles), never past limit.
		most := min(limit, max(2*int64(len(body)), firstChunk))
		if declared >= 0 {
			most = declared
		}
		if held := b.inUse(); held > most {
			t.Fatalf("holds %d bytes for a %d-byte body (declared %d, limit %d)", held, len(body), declared, limit)
		}
		c.release()
	})
}

// limitReader is http.MaxBytesReader's contract without a ResponseWriter:
// an error, not EOF, once more than n bytes arrive.
type limitReader struct {
	rd io.Reader
	n  int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.rd.Read(p)
	if int64(n) > l.n {
		return int(l.n), errors.New("over the limit")
	}
	l.n -= int64(n)
	return n, err
}
