package badger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Test hooks for the conformance suite's crash case: a copy of the data
// directory as a kill -9 of the process would leave it, taken while
// writers are in the middle of Accept.

// CrashGate can stop a store's accept writer just before a commit, so
// that CopyAsCrashed can copy the data directory at one instant.
type CrashGate struct {
	db   *DB
	mu   sync.Mutex
	held chan struct{} // while armed: closed by the writer once it waits at the gate
	open chan struct{} // while armed: closed to let it go on
}

// CrashGateForTest puts a CrashGate before each of the accept writer's
// commits; it lets every commit through until CopyAsCrashed arms it.
// Call it before db takes deliveries: the writer reads the hook without
// a lock.
func (db *DB) CrashGateForTest() *CrashGate {
	g := &CrashGate{db: db}
	db.beforeCommit = g.wait
	return g
}

// wait runs in the writer before each commit: while the gate is armed it
// says it has arrived and waits to be let through.
func (g *CrashGate) wait() {
	g.mu.Lock()
	held, open := g.held, g.open
	g.mu.Unlock()
	if held == nil {
		return
	}
	close(held) // only the writer closes it, once per arming: it waits below until release disarms
	<-open
}

// release lets the writer go on and disarms the gate.
func (g *CrashGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open != nil {
		close(g.open)
		g.held, g.open = nil, nil
	}
}

// CopyAsCrashed copies the store's data directory into the empty
// directory dst as a kill -9 of the process would leave it, while the
// accept writer waits at the gate with a batch staged whose callers are
// waiting, and returns with the writer held there: from the copy on the
// store acknowledges no delivery, as a dead process would not. release
// lets the writer go on; call it before Close, which waits for the
// writer. The test must run no other writer (settles, the trail,
// rejections) meanwhile.
//
// kill -9 leaves on disk what the files hold at that instant: Badger
// writes its logs through mmap, and the page cache keeps every write.
// Files copied one after another while writes go on would mix instants
// no crash can: a write-ahead log copied after the value log may point
// past the value log's copied end, and a memtable flush or compaction
// between two copies may leave a MANIFEST naming tables copied before
// they were written, or lose a log deleted before its turn. So nothing
// writes during the copy: the writer's previous commit has landed (it
// submits one batch at a time), and Badger's own background work, which
// creates, removes or grows files (tables, logs, the MANIFEST), would
// show in a listing of the directory taken before and after, and the
// copy is then taken again. Work begun before the first listing and
// finished after the second (a table not yet in the MANIFEST) is what a
// crash in its middle leaves, and Badger's open discards it.
func (g *CrashGate) CopyAsCrashed(dst string) (release func(), err error) {
	dir := g.db.opt.Dir
	if dir == "" {
		return nil, errors.New("copy as crashed: the store is in memory")
	}
	g.mu.Lock()
	g.held, g.open = make(chan struct{}), make(chan struct{})
	held := g.held
	g.mu.Unlock()
	select {
	case <-held:
	case <-time.After(time.Minute):
		g.release()
		return nil, errors.New("copy as crashed: the accept writer reached no commit within a minute (are writers running?)")
	}
	for range 100 {
		if err = copyStill(dir, dst); err == nil {
			return g.release, nil
		}
		time.Sleep(10 * time.Millisecond) // let the flush or compaction finish
	}
	g.release()
	return nil, fmt.Errorf("copy as crashed: %w", err)
}

// copyStill copies every file of dir into dst, and fails, leaving dst
// empty, unless the listings of dir before and after the copy agree.
func copyStill(dir, dst string) error {
	before, err := listFiles(dir)
	if err != nil {
		return err
	}
	for name := range before {
		if err := copySparse(filepath.Join(dir, name), filepath.Join(dst, name)); err != nil {
			clearDir(dst)
			return err
		}
	}
	after, err := listFiles(dir)
	if err != nil {
		return err
	}
	for name, fi := range before {
		if a, ok := after[name]; !ok || a.Size() != fi.Size() || !os.SameFile(a, fi) {
			clearDir(dst)
			return fmt.Errorf("%s changed during the copy", name)
		}
	}
	if len(after) != len(before) {
		clearDir(dst)
		return errors.New("files came or went during the copy")
	}
	return nil
}

func listFiles(dir string) (map[string]os.FileInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]os.FileInfo, len(ents))
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			return nil, err // removed since the listing
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", e.Name())
		}
		out[e.Name()] = fi
	}
	return out, nil
}

// copySparse copies the whole of file src to dst, leaving holes where
// src holds blocks of zeros: Badger's logs are mapped at their full
// size (the value log's 128 MiB) long before they fill.
func copySparse(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	buf, zero := make([]byte, 64<<10), make([]byte, 64<<10)
	var off int64
	for {
		n, err := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := out.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
		off += int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := out.Truncate(off); err != nil {
		return err
	}
	return out.Close()
}

func clearDir(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.Remove(filepath.Join(dir, e.Name()))
	}
}
