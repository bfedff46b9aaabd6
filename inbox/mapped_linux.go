package inbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The value log (bodies and event records) is written through a shared
// memory mapping of each .vlog file, and Badger keeps every value-log
// file mapped while the store is open. Each page written stays mapped
// after it is synced, so the process's RSS grows with the archive (about
// 8 MB per 5,000 deliveries) although the pages are clean page cache the
// kernel could drop at any time. trimLoop hands those pages back, and
// those of the memtables' write-ahead logs (.mem, append-only too and
// read only when the store is opened).
//
// The LSM tables (.sst) are paged out too: their resident pages grow with
// the part of the archive compaction and lookups read, and without this
// a 10 s load test ended at 116-130 MiB of RSS instead of 105-117.
//
// Paging out drops clean pages from the page cache as well, so a page
// read again comes from the disk. For the logs that is rare (the
// forwarder reads events just accepted from memory, recent.go). For the
// tables it costs less than it seems: a dedup check for a new key stops
// at the bloom filters, which live in the heap, and outbox scans read
// the newest data, mostly still in the memtables; the load tests showed
// no change in throughput. A data directory on tmpfs is left alone: its
// pages cannot go anywhere but swap.
//
// It asks the kernel to page out those mappings
// (madvise MADV_PAGEOUT). That is safe whatever the addresses hold by
// the time the call lands, which matters because the list of mappings
// comes from /proc/self/maps and Badger may unmap a file in between:
// paging out never changes memory contents (clean file pages are dropped
// and read back on the next touch, dirty ones are kept, and anonymous
// memory without swap is left alone). MADV_DONTNEED would be cheaper for
// the page cache but would zero anonymous memory that happened to be
// mapped at a reused address, so it is not used.

// Once a second is not enough for the tables under sustained load:
// compaction writes new tables through mappings and reads its inputs the
// same way, with the disk's readahead (8 MiB here) pulling in whole
// tables, and in 40 s runs with forwarding the file-backed RSS reached
// 79-107 MB between two passes. So the loop also reads the process's
// file-backed RSS every trimCheck (one read of /proc/self/statm) and
// pages out the tables at once when it is over trimBudget. The budget
// counts pages such a pass cannot drop too: the porch binary's own text
// (about 14 MiB) and the logs' pages of the last second. So that those
// alone cannot make it page out the tables every trimCheck for nothing,
// it waits after a pass until the file-backed RSS has grown trimSlack
// past what the pass left. With 24 MiB checked every 25 ms the
// file-backed peak was 41-54 MB in seven such runs (48-50 MB with 32 MiB
// every 50 ms), and 79 MB in one more.

// trimInterval is how often the store's mappings are paged out at the
// latest, trimCheck how often the file-backed RSS is compared with
// trimBudget (and trimSlack) in between (variables for tests).
var (
	trimInterval       = time.Second
	trimCheck          = 25 * time.Millisecond
	trimBudget   int64 = 24 << 20
	trimSlack    int64 = 1 << 20
)

// trimLoop pages out the store's mappings every trimInterval, and
// sooner whenever the file-backed RSS passes trimBudget, until Close.
func (db *DB) trimLoop() {
	defer db.wg.Done()
	if db.opt.Dir == "" {
		return
	}
	dir, err := filepath.Abs(db.opt.Dir)
	if err != nil {
		return
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		return
	}
	statm, err := os.Open("/proc/self/statm")
	if err != nil {
		statm = nil // page out on the interval alone
	} else {
		defer statm.Close()
	}
	pageSize := int64(os.Getpagesize())
	last := time.Now()
	var left int64 // file-backed RSS just after the last pass
	db.every(min(trimCheck, trimInterval), func() bool {
		full := time.Since(last) >= trimInterval
		if !full && fileRSS(statm, pageSize) <= max(trimBudget, left+trimSlack) {
			return true
		}
		if full {
			last = time.Now()
		}
		n, err := pageOutStore(dir, !full)
		left = fileRSS(statm, pageSize)
		db.pagedOut.Add(uint64(n))
		if errors.Is(err, unix.EINVAL) { // a kernel before 5.4
			db.log.WithError(err).Warn("cannot page out the store's mapped files; RSS will include them")
			return false
		}
		if err != nil {
			db.log.WithError(err).Debug("paging out the store's mapped files failed")
		}
		return true
	})
}

// fileRSS reads the process's resident file-backed and shared memory
// from statm (its third field, in pages); 0 when it cannot be read.
func fileRSS(statm *os.File, pageSize int64) int64 {
	if statm == nil {
		return 0
	}
	var buf [128]byte
	n, err := statm.ReadAt(buf[:], 0)
	if n == 0 || (err != nil && !errors.Is(err, io.EOF)) {
		return 0
	}
	return parseStatmShared(buf[:n]) * pageSize
}

// parseStatmShared returns the third field of a statm line ("size
// resident shared text lib data dt", in pages), or 0 if there is none.
func parseStatmShared(b []byte) int64 {
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0
	}
	n, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// pageOutStore pages out every mapping of a .vlog, .mem or .sst file in
// dir, or of the .sst files only, and reports how many mappings it paged
// out. Tables are written once, when Badger builds them, and then only
// read (a pass that meets one being written leaves its dirty pages
// alone); the logs are being appended to, and an append into a page just
// dropped would read it back from the disk first, inside a commit.
func pageOutStore(dir string, tablesOnly bool) (int, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		lo, hi, ok := storeMapping(sc.Text(), dir)
		if !ok || (tablesOnly && !strings.HasSuffix(sc.Text(), ".sst")) {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_PAGEOUT)
		if errno == unix.ENOMEM {
			continue // unmapped since /proc/self/maps was read
		}
		if errno != 0 {
			return n, errno
		}
		n++
	}
	return n, sc.Err()
}

// storeMapping parses one line of /proc/self/maps and reports the
// address range when it maps a .vlog, .mem or .sst file directly in dir.
func storeMapping(line, dir string) (lo, hi uintptr, ok bool) {
	// address perms offset dev inode pathname; only the pathname has a
	// slash, and it may have spaces.
	i := strings.IndexByte(line, '/')
	if i < 0 {
		return 0, 0, false
	}
	path := line[i:]
	ext := filepath.Ext(path)
	if (ext != ".vlog" && ext != ".mem" && ext != ".sst") || filepath.Dir(path) != dir {
		return 0, 0, false
	}
	rng, _, _ := strings.Cut(line, " ")
	a, z, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseUint(a, 16, 64)
	end, err2 := strconv.ParseUint(z, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return 0, 0, false
	}
	return uintptr(start), uintptr(end), true
}
