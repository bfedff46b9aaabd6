package badger

import (
	"bytes"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
	"github.com/porchgw/porch/inbox"
)

// OutboxStats reports the backlog per destination. It reads keys only
// (o/<due>/<id>/<destination>), never values, so it is cheap enough for
// every metrics scrape. Destinations with nothing pending are absent.
func (db *DB) OutboxStats() (map[string]inbox.OutboxStat, error) {
	out := make(map[string]inbox.OutboxStat)
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxOutbox)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, dest, ok := splitOutboxKey(it.Item().Key())
			if !ok {
				continue
			}
			st := out[dest]
			st.Depth++
			if u, err := ulid.ParseStrict(id); err == nil {
				if at := ulid.Time(u.Time()); st.Oldest.IsZero() || at.Before(st.Oldest) {
					st.Oldest = at
				}
			}
			out[dest] = st
		}
		return nil
	})
	return out, err
}

// splitOutboxKey reads the event id and destination from an outbox key.
// The due time is 8 raw bytes (which may contain '/'), so fields are
// found by position: prefix, 8 bytes, '/', then "<id>/<destination>".
func splitOutboxKey(k []byte) (id, dest string, ok bool) {
	rest := k[len(pfxOutbox):]
	if len(rest) < 10 || rest[8] != '/' {
		return "", "", false
	}
	rest = rest[9:]
	i := bytes.IndexByte(rest, '/')
	if i < 0 {
		return "", "", false
	}
	return string(rest[:i]), string(rest[i+1:]), true
}

// DiskSize is the bytes the store's files take on disk in its directory,
// read from the file system now (Size reports Badger's own figures, which
// it refreshes only once a minute). It counts allocated blocks, as du
// does: Badger creates its value log sparse at its full size, so the
// apparent size of a small store is mostly holes. It is 0 for an
// in-memory store.
func (db *DB) DiskSize() (int64, error) {
	if db.opt.Dir == "" {
		return 0, nil
	}
	var total int64
	err := filepath.WalkDir(db.opt.Dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += allocated(fi)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("disk size: %w", err)
	}
	return total, nil
}

// allocated is the bytes fi's blocks take on disk; where the file system
// does not say, its apparent size.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512 // st_blocks counts 512-byte units on every unix
	}
	return fi.Size()
}

// FreeBytes is the space left for the store in its directory (what an
// unprivileged writer may use); 0 for an in-memory store. Intake stops
// below Options.MinFreeBytes.
func (db *DB) FreeBytes() (int64, error) {
	if db.opt.Dir == "" {
		return 0, nil
	}
	free, err := freeBytes(db.opt.Dir)
	if err != nil {
		return 0, fmt.Errorf("free bytes: %w", err)
	}
	return free, nil
}
