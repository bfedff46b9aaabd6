package inbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// valueLogRSS sums the resident size of this process's mappings of .vlog
// files in dir, from /proc/self/smaps.
func valueLogRSS(t *testing.T, dir string) (kb int) { return mappedRSS(t, dir, "") }

// mappedRSS is valueLogRSS for the store's mappings whose file name ends
// in ext ("" for all of them).
func mappedRSS(t *testing.T, dir, ext string) (kb int) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if _, _, ok := storeMapping(line, dir); ok {
			in = strings.HasSuffix(line, ext)
			continue
		}
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = false // the header of another mapping
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			n, err := strconv.Atoi(strings.Fields(line)[1])
			if err != nil {
				t.Fatal(err)
			}
			kb += n
		}
	}
	return kb
}

// TestPageOutValueLogDropsMappedPagesKeepsData: after bodies are
// committed their value-log pages are resident in this process; paging
// the value log out drops them from the RSS, and every body still reads
// back byte for byte.
func TestPageOutValueLogDropsMappedPagesKeepsData(t *testing.T) {
	defer func(d time.Duration, b int64) { trimInterval, trimBudget = d, b }(trimInterval, trimBudget)
	trimInterval, trimBudget = time.Hour, math.MaxInt64 // this test pages out by hand
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(real, &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		t.Skip("tmpfs pages cannot be paged out without swap")
	}
	bodies := map[string][]byte{}
	for i := range 200 {
		body := bytes.Repeat([]byte(fmt.Sprintf(`{"n":%d}`, i)), 1000) // ~8 KB, into the value log
		ev := eventWithKey(string(body))
		ev.DedupKeys = []string{fmt.Sprintf("k:%d", i)}
		res, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		bodies[res.ID] = body
	}
	before := valueLogRSS(t, real)
	if before < 1000 {
		t.Fatalf("value log resident %d KB before paging out; want the ~1.6 MB just written", before)
	}
	n, err := pageOutStore(real, false)
	if err != nil || n == 0 {
		t.Fatalf("pageOutStore = %d mappings, %v", n, err)
	}
	after := valueLogRSS(t, real)
	t.Logf("value log resident: %d KB before, %d KB after", before, after)
	if after > before/4 {
		t.Errorf("value log resident %d KB after paging out, %d KB before", after, before)
	}
	for id, want := range bodies {
		got, err := db.Body(id)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("body %s after paging out: %d bytes, %v; want %d bytes", id, len(got), err, len(want))
		}
	}
}

func TestStoreMapping(t *testing.T) {
	for _, tc := range []struct {
		line   string
		ok     bool
		lo, hi uintptr
	}{
		{"7f0000000000-7f0004000000 rw-s 00000000 fd:01 123 /data/000001.vlog", true, 0x7f0000000000, 0x7f0004000000},
		{"7f0000000000-7f0004000000 rw-s 00000000 fd:01 123 /data/000001.vlog (deleted)", false, 0, 0},
		{"7f0000000000-7f0004000000 rw-s 00000000 fd:01 123 /data/sub/000001.vlog", false, 0, 0},
		{"7f0000000000-7f0004000000 r--s 00000000 fd:01 123 /data/000002.sst", true, 0x7f0000000000, 0x7f0004000000},
		{"7f0000000000-7f0004000000 r--s 00000000 fd:01 123 /data/MANIFEST", false, 0, 0},
		{"7f0000000000-7f0004000000 rw-s 00000000 fd:01 123 /data/00003.mem", true, 0x7f0000000000, 0x7f0004000000},
		{"7f0000000000-7f0004000000 rw-p 00000000 00:00 0 ", false, 0, 0},
		{"7f0000000000-7f0004000000 rw-p 00000000 00:00 0 [heap]", false, 0, 0},
		{"zz-7f0004000000 rw-s 00000000 fd:01 123 /data/000001.vlog", false, 0, 0},
		{"7f0004000000-7f0000000000 rw-s 00000000 fd:01 123 /data/000001.vlog", false, 0, 0},
	} {
		lo, hi, ok := storeMapping(tc.line, "/data")
		if ok != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("storeMapping(%q) = %x, %x, %v", tc.line, lo, hi, ok)
		}
	}
	lo, _, ok := storeMapping("7f00-7f10 rw-s 00000000 fd:01 9 /my data/000003.vlog", "/my data")
	if !ok || lo != 0x7f00 {
		t.Errorf("path with a space: %x %v", lo, ok)
	}
}

// TestSmallRecordsStayInTheTree: the records the forwarder scans and
// rewrites for every attempt stay under the value threshold at their
// largest (a 63-character destination, a 64-character interview id), so
// they never go to the value log, whose pages trimLoop pages out.
func TestSmallRecordsStayInTheTree(t *testing.T) {
	dest, iv := strings.Repeat("d", 63), strings.Repeat("i", 64)
	due := time.Date(2026, 11, 23, 13, 55, 33, 438123456, time.FixedZone("", 5*3600+1800))
	for name, v := range map[string]any{
		"outbox entry": Delivery{EventID: "01M84B1JDVN4E20PE4A9ETT7RA", Destination: dest, InterviewID: iv,
			Seq: 1<<64 - 1, Attempts: 100, Total: 100, DueAt: due, Failures: 100},
		"delivery state": DeliveryState{Destination: dest, Status: DeliveryPending, Attempts: 100, NextAt: due, UpdatedAt: due},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) >= valueThreshold {
			t.Errorf("%s encodes to %d bytes, not under the value threshold %d", name, len(b), valueThreshold)
		}
	}
}

// TestTrimLoopPagesOutThroughASymlink: the loop finds the store's
// mappings when the data directory is reached through a symlink
// (/proc/self/maps shows the real path).
func TestTrimLoopPagesOutThroughASymlink(t *testing.T) {
	defer func(d time.Duration) { trimInterval = d }(trimInterval)
	trimInterval = 20 * time.Millisecond
	real := pageableDir(t)
	link := filepath.Join(t.TempDir(), "data")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	db, err := Open(Options{Dir: link})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acceptUntilPagedOut(t, db, real)
}

// TestTrimLoopPagesOutTablesOverBudget: with the interval out of reach,
// the loop still pages out the tables as soon as the file-backed RSS is
// over budget, and leaves the logs, which are being appended to, alone.
func TestTrimLoopPagesOutTablesOverBudget(t *testing.T) {
	defer func(d, c time.Duration, b, sl int64) {
		trimInterval, trimCheck, trimBudget, trimSlack = d, c, b, sl
	}(trimInterval, trimCheck, trimBudget, trimSlack)
	trimInterval, trimCheck, trimBudget, trimSlack = time.Hour, 10*time.Millisecond, math.MaxInt64, 0
	dir := pageableDir(t)
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 200 {
		ev := eventWithKey(strings.Repeat(fmt.Sprintf(`{"n":%d}`, i), 100))
		ev.DedupKeys = []string{fmt.Sprintf("k:%d", i)}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	db.Close() // Badger writes its memtable out as a table
	trimBudget = 1
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range ids { // fault in table and value-log pages
		if _, err := db.EventWithBody(id); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the tables paged out (64 KB resident at most)", func() bool {
		return db.pagedOut.Load() > 0 && mappedRSS(t, dir, ".sst") <= 64
	})
	if kb := mappedRSS(t, dir, ".vlog"); kb == 0 {
		t.Error("the value log was paged out too; only the interval pass may do that")
	}
}

func TestParseStatmShared(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"52736 14593 4067 3301 0 25510 0\n", 4067},
		{"1 2 3", 3},
		{"1 2", 0},
		{"", 0},
		{"1 2 x 4", 0},
		{"1 2 -5 4", 0},
		{"1 2 99999999999999999999 4", 0},
	} {
		if got := parseStatmShared([]byte(c.in)); got != c.want {
			t.Errorf("parseStatmShared(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if n := fileRSS(f, int64(os.Getpagesize())); n <= 0 {
		t.Errorf("fileRSS of this process = %d, want > 0", n)
	}
}

// pageableDir returns a temporary directory by its real path (as
// /proc/self/maps shows it), skipping the test where it is on tmpfs,
// whose pages cannot be paged out without swap.
func pageableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		t.Skip("tmpfs pages cannot be paged out without swap")
	}
	return dir
}

// acceptUntilPagedOut writes bodies into db (stored in dir) and waits
// until the trim loop has paged its value log out.
func acceptUntilPagedOut(t *testing.T, db *DB, dir string) {
	t.Helper()
	for i := range 100 {
		ev := eventWithKey(strings.Repeat(fmt.Sprintf(`{"n":%d}`, i), 1000))
		ev.DedupKeys = []string{fmt.Sprintf("k:%d", i)}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the value log paged out (64 KB resident at most)", func() bool {
		return db.pagedOut.Load() > 0 && valueLogRSS(t, dir) <= 64
	})
}
