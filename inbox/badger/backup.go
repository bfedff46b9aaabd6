package badger

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// ErrNotEmpty means Restore was pointed at a directory that already holds
// files: restoring never merges into or overwrites a store.
var ErrNotEmpty = errors.New("directory not empty")

// Backup writes an online, consistent backup of the whole store to w:
// Badger's backup stream (every live key at one read timestamp, dedup
// keys with their remaining TTL) framed by a header and a trailer with
// its length and SHA-256 (backupframe.go). Nothing is written before
// Badger's first byte. Deliveries keep being accepted while it runs; they
// are in the next backup. It is safe to call concurrently.
func (db *DB) Backup(w io.Writer) error {
	fw := newFrameWriter(w)
	if _, err := db.bdb.Backup(fw, 0); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := fw.finish(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Restore loads a backup written by Backup into a new store in dir, which
// must not exist or be empty (ErrNotEmpty otherwise). It reads r twice:
// first to check the frame (ErrNotBackup, ErrDamaged), so a backup that
// is not whole never reaches the store, then to load it. If loading
// fails, what Restore wrote is removed and dir is as it was. The store is
// closed again when Restore returns; Open it to use it.
func Restore(dir string, r io.ReadSeeker) error {
	if err := checkEmpty(dir); err != nil {
		return err
	}
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := checkFrame(r); err != nil {
		return err // its text starts with what is wrong with the backup
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fr := newFrameReader(r)
	return load(dir, fr, func() error {
		if fr.err != io.EOF { // Load stops at EOF only; this is a guard
			return fmt.Errorf("%w: the stream ended before its trailer", ErrDamaged)
		}
		return nil
	})
}

// RestoreLegacy loads a backup written before backups were framed (bare
// Badger backup stream) as Restore does, without the frame's checks:
// nothing in such a stream tells a whole backup from a cut one, and a cut
// one restores what it holds. A framed backup is restored by Restore.
func RestoreLegacy(dir string, r io.ReadSeeker) error {
	if err := checkEmpty(dir); err != nil {
		return err
	}
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	head := make([]byte, len(frameHeader))
	n, _ := io.ReadFull(r, head)
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if h := string(head[:n]); h == frameHeader || h == frameHeaderV1 {
		return Restore(dir, r)
	}
	return load(dir, r, func() error { return nil })
}

// load creates a store in dir and loads Badger's backup stream from r
// into it; done says whether r ended where it should. On any failure,
// a panic in Badger's Load on a malformed stream included, it removes
// what it created.
func load(dir string, r io.Reader, done func() error) (err error) {
	undo, err := makeDir(dir)
	if err != nil {
		return fmt.Errorf("restore %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	opt := Options{Dir: dir}
	opt.setDefaults()
	bdb, err := badger.Open(badgerOptions(opt).WithSyncWrites(true))
	if err != nil {
		return fmt.Errorf("restore %s: %w", dir, err)
	}
	err = loadStream(bdb, r)
	if err == nil {
		err = done()
	}
	if err == nil {
		err = bdb.Sync()
	}
	if cerr := bdb.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", dir, err)
	}
	return nil
}

// loadStream is Badger's Load, with a panic (it allocates what a
// malformed stream's length prefix says) turned into an error.
func loadStream(bdb *badger.DB, r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("load: %w: badger: %v", ErrDamaged, p)
		}
	}()
	if err := bdb.Load(r, 256); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// makeDir creates dir (and missing parents) and returns undo, which
// empties dir again and removes what makeDir created.
func makeDir(dir string) (undo func(), err error) {
	top := "" // the outermost directory makeDir creates
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		top = d
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return func() {
		if top != "" {
			_ = os.RemoveAll(top)
			return
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}, nil
}

// checkEmpty refuses a dir that is not empty, and an empty name.
func checkEmpty(dir string) error {
	if dir == "" {
		return errors.New("restore: no directory")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("restore %s: %w", dir, ErrNotEmpty)
	}
	return nil
}
