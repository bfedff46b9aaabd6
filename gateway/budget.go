package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/porchgw/porch/inbox"
)

// firstChunk is the room a body gets before its first bytes arrive. It
// holds a typical delivery in one read; a stalled upload holds no more.
const firstChunk = 16 << 10

var (
	errBudgetFull = fmt.Errorf("gateway busy: in-flight body budget full: %w", inbox.ErrNotDurable)
	errUploadCut  = fmt.Errorf("gateway busy: upload cut to make room for complete deliveries: %w", inbox.ErrNotDurable)
)

// budget bounds the bytes of request bodies held in memory, across all
// requests. A body takes room as its bytes arrive, so an upload that
// stalls holds only what it has sent. When a body finds no room, the
// uploads still being received that started before it are cut, oldest
// first: a delivery that arrives whole is never starved by uploads that
// trickle in or stop, and memory stays within the limit. Safe for
// concurrent use.
type budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	cutting int64 // room held by cut uploads that have not let go yet
	seq     uint64
	reading map[*bodyClaim]struct{} // claims whose body is still arriving
	freed   chan struct{}           // closed (and replaced) when room is released
	cuts    atomic.Uint64           // uploads cut, for /metrics
}

func newBudget(limit int64) *budget {
	return &budget{limit: limit, reading: make(map[*bodyClaim]struct{}), freed: make(chan struct{})}
}

// bodyClaim is one request body's share of the budget.
type bodyClaim struct {
	b     *budget
	seq   uint64 // arrival order: lower started earlier
	held  int64
	cut   bool
	abort func() // makes the request's blocked body read return
}

// claim registers a body about to be read. abort must make a read of it
// in progress return promptly; it is called at most once, with b's lock
// held, so it must not call back into b.
func (b *budget) claim(abort func()) *bodyClaim {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	c := &bodyClaim{b: b, seq: b.seq, abort: abort}
	b.reading[c] = struct{}{}
	return c
}

// inUse reports the room taken, for tests.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// grow takes n more bytes of room, cutting older uploads when there is
// none, and waits for it until ctx ends (errBudgetFull) or this upload is
// cut itself (errUploadCut).
func (c *bodyClaim) grow(ctx context.Context, n int64) error {
	b := c.b
	for {
		b.mu.Lock()
		if c.cut {
			b.mu.Unlock()
			return errUploadCut
		}
		if b.used+n <= b.limit {
			b.used += n
			c.held += n
			b.mu.Unlock()
			return nil
		}
		b.cutOlder(c, n)
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return errBudgetFull
		}
	}
}

// tryGrow takes n more bytes of room if there is that much free now,
// without cutting anything or waiting, and reports whether it did.
func (c *bodyClaim) tryGrow(n int64) bool {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.cut || b.used+n > b.limit {
		return false
	}
	b.used += n
	c.held += n
	return true
}

// cutOlder aborts uploads still arriving that started before c, oldest
// first, until the room they will free (with what earlier cuts will)
// covers n. Waiters are woken, so a victim waiting for room itself
// learns it was cut. Called with b.mu held.
func (b *budget) cutOlder(c *bodyClaim, n int64) {
	woke := false
	for b.limit-b.used+b.cutting < n {
		var victim *bodyClaim
		for r := range b.reading {
			if r.seq < c.seq && !r.cut && r.held > 0 && (victim == nil || r.seq < victim.seq) {
				victim = r
			}
		}
		if victim == nil {
			return
		}
		victim.cut = true
		b.cuts.Add(1)
		b.cutting += victim.held
		victim.abort()
		if !woke {
			b.broadcast()
			woke = true
		}
	}
}

// received marks the body as whole: from now on it is not cut.
func (c *bodyClaim) received() {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	delete(c.b.reading, c)
}

// release gives back all of c's room. It is idempotent.
func (c *bodyClaim) release() {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.reading, c)
	if c.cut {
		b.cutting -= c.held
	}
	b.used -= c.held
	c.held = 0
	c.cut = false
	b.broadcast()
}

// broadcast wakes every waiter. Called with b.mu held.
func (b *budget) broadcast() {
	close(b.freed)
	b.freed = make(chan struct{})
}

// readAll reads rd to EOF into a buffer whose room c takes as it grows:
// first a chunk, then doubling, never past the declared length (when
// there is one) or limit. waitCtx bounds each wait for room.
func (c *bodyClaim) readAll(waitCtx func() (context.Context, context.CancelFunc), rd io.Reader, declared, limit int64) ([]byte, error) {
	b := []byte{}
	most := limit
	if declared >= 0 {
		most = min(declared, limit)
	}
	for {
		if len(b) == cap(b) && int64(cap(b)) >= most {
			// Full at the most the body may be: one more read must meet
			// its end (MaxBytesReader reports an overflow as an error).
			var one [1]byte
			n, err := rd.Read(one[:])
			if n > 0 {
				return nil, errors.New("body longer than declared")
			}
			if err != nil {
				return b, c.readErr(err)
			}
			continue
		}
		if len(b) == cap(b) {
			next := min(max(2*int64(cap(b)), firstChunk), most)
			if n := next - int64(cap(b)); !c.tryGrow(n) {
				ctx, cancel := waitCtx() // only a wait needs a deadline (and its timer)
				err := c.grow(ctx, n)
				cancel()
				if err != nil {
					return nil, err
				}
			}
			b = append(make([]byte, 0, next), b...)
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			return b, c.readErr(err)
		}
	}
}

// readErr is nil for the end of the body, errUploadCut when the read
// failed because c was cut, and err otherwise. At the end of the body it
// marks c received in the same critical section that checks for a cut,
// so a body that arrived whole is never cut afterwards (a cut sets the
// connection's read deadline, which would cancel the request).
func (c *bodyClaim) readErr(err error) error {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.cut {
		return errUploadCut
	}
	if errors.Is(err, io.EOF) {
		delete(c.b.reading, c)
		return nil
	}
	return err
}
