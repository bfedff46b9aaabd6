package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// leader records which nodes lead, as Lead's fn.
type leader struct {
	mu      sync.Mutex
	leading map[int]bool
	changed chan struct{} // receives after each change
}

func (l *leader) fn(node int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		l.set(node, true)
		<-ctx.Done()
		l.set(node, false)
		return nil
	}
}

func (l *leader) set(node int, on bool) {
	l.mu.Lock()
	l.leading[node] = on
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// await waits until cond holds of the leading nodes.
func (l *leader) await(t *testing.T, what string, cond func(map[int]bool) bool) {
	t.Helper()
	for {
		l.mu.Lock()
		ok := cond(l.leading)
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.changed:
		case <-t.Context().Done():
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func only(node int) func(map[int]bool) bool {
	return func(m map[int]bool) bool {
		for n, on := range m {
			if on != (n == node) {
				return false
			}
		}
		return m[node]
	}
}

// One of two nodes leads. When its lock's connection is killed its fn's
// context ends and a node leads again; when the leader's DB closes, the
// other node takes over.
func TestLeadTakeover(t *testing.T) {
	url := testURL(t)
	nodes := []*DB{mustOpen(t, url, Options{}), mustOpen(t, url, Options{})}
	l := &leader{leading: map[int]bool{}, changed: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i, db := range nodes {
		db.leadEvery = 20 * time.Millisecond
		wg.Go(func() {
			if err := db.Lead(ctx, "sweep", l.fn(i)); err != nil {
				t.Error(err)
			}
		})
	}
	var first int
	l.await(t, "a leader", func(m map[int]bool) bool {
		for n, on := range m {
			if on {
				first = n
				return true
			}
		}
		return false
	})

	admin := connect(t, url)
	key := nodes[0].lockKey("sweep")
	var killed bool
	err := admin.QueryRow(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1`,
		int64(uint32(uint64(key)>>32)), int64(uint32(key))).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("kill the lock's connection: %v, %v", killed, err)
	}
	l.await(t, "the leader to notice its lock is gone", func(m map[int]bool) bool { return !m[first] })
	var second int
	l.await(t, "a leader again", func(m map[int]bool) bool {
		for n, on := range m {
			if on {
				second = n
				return true
			}
		}
		return false
	})

	nodes[second].Close()
	l.await(t, "the other node to take over", only(1-second))
	cancel()
	l.await(t, "no leader once Lead's context ended", func(m map[int]bool) bool { return !m[0] && !m[1] })
}

// A leader whose lock's session falls silent (its node hung, or its
// host is gone) loses the lock to the server's idle timeout, and the
// other node takes over without waiting for the connection to be
// noticed dead.
func TestSilentLeaderLosesLock(t *testing.T) {
	url := testURL(t)
	a, b := mustOpen(t, url, Options{}), mustOpen(t, url, Options{})
	a.leadEvery, a.leadIdle = time.Hour, 300*time.Millisecond // a never checks its lock again
	b.leadEvery = 20 * time.Millisecond
	l := &leader{leading: map[int]bool{}, changed: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wg.Go(func() { _ = a.Lead(ctx, "sweep", l.fn(0)) })
	l.await(t, "node a to lead", only(0))
	wg.Go(func() { _ = b.Lead(ctx, "sweep", l.fn(1)) })
	l.await(t, "node b to take the silent leader's lock", func(m map[int]bool) bool { return m[1] })
}

// Lead on a closed DB refuses at once.
func TestLeadClosed(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	db.Close()
	err := db.Lead(context.Background(), "x", func(context.Context) error { return nil })
	if !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

// Ready answers from the database; the disk and backup calls say what
// the engine leaves to PostgreSQL's own tools.
func TestOps(t *testing.T) {
	db := mustOpen(t, testURL(t), Options{})
	if err := db.Ready(); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DiskSize(); err != nil || n <= 0 {
		t.Fatalf("disk size: %d, %v", n, err)
	}
	if _, err := db.FreeBytes(); !errors.Is(err, inbox.ErrUnsupported) {
		t.Fatalf("free bytes: %v", err)
	}
	if err := db.Backup(nil); !errors.Is(err, inbox.ErrUnsupported) || !strings.Contains(err.Error(), "pg_dump --format=custom") {
		t.Fatalf("backup: %v", err)
	}
	db.Close()
	if err := db.Ready(); !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("ready after close: %v", err)
	}
}
