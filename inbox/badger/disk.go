package badger

import (
	"fmt"

	"github.com/porchgw/porch/inbox"
	"golang.org/x/sys/unix"
)

// checkDisk refuses deliveries while the data directory has less than
// MinFreeBytes free. Badger writes through memory-mapped files, where a
// full disk is not an error but a fatal SIGBUS; stopping short of full is
// the only way to keep answering (503) and to recover once space returns.
func (db *DB) checkDisk() error {
	if db.opt.Dir == "" || db.opt.MinFreeBytes < 0 {
		return nil
	}
	free, err := freeBytes(db.opt.Dir)
	if err != nil {
		return fmt.Errorf("statfs %s: %w", db.opt.Dir, err)
	}
	low := free < db.opt.MinFreeBytes
	if was := db.lowDisk.Swap(low); was != low {
		if low {
			db.log.WithField("free_bytes", free).Error("data directory nearly full; refusing deliveries")
		} else {
			db.log.WithField("free_bytes", free).Info("disk space back; taking deliveries again")
		}
	}
	if low {
		return fmt.Errorf("data directory has %d bytes free, under the %d reserved: %w", free, db.opt.MinFreeBytes, inbox.ErrNotDurable)
	}
	return nil
}

// freeBytes is the space available to an unprivileged writer in dir.
func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
