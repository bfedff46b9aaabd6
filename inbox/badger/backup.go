package badger

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dgraph-io/badger/v4"
)

// ErrNotEmpty means Restore was pointed at a directory that already holds
// files: restoring never merges into or overwrites a store.
var ErrNotEmpty = errors.New("directory not empty")

// Backup writes an online, consistent backup of the whole store to w
// (Badger's backup stream: every live key at one read timestamp, dedup
// keys with their remaining TTL). Deliveries keep being accepted while it
// runs; they are in the next backup. It is safe to call concurrently.
func (db *DB) Backup(w io.Writer) error {
	if _, err := db.bdb.Backup(w, 0); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Restore loads a stream written by Backup into a new store in dir, which
// must not exist or be empty (ErrNotEmpty otherwise). The store is closed
// again when Restore returns; Open it to use it.
func Restore(dir string, r io.Reader) error {
	if dir == "" {
		return errors.New("restore: no directory")
	}
	if err := checkEmpty(dir); err != nil {
		return err
	}
	opt := Options{Dir: dir}
	opt.setDefaults()
	bdb, err := badger.Open(badgerOptions(opt).WithSyncWrites(true))
	if err != nil {
		return fmt.Errorf("restore %s: %w", dir, err)
	}
	if err := bdb.Load(r, 256); err != nil {
		bdb.Close()
		return fmt.Errorf("restore %s: load: %w", dir, err)
	}
	if err := bdb.Sync(); err != nil {
		bdb.Close()
		return fmt.Errorf("restore %s: sync: %w", dir, err)
	}
	if err := bdb.Close(); err != nil {
		return fmt.Errorf("restore %s: close: %w", dir, err)
	}
	return nil
}

func checkEmpty(dir string) error {
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
