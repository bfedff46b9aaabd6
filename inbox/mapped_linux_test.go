package inbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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
func valueLogRSS(t *testing.T, dir string) (kb int) {
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
			in = true
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
	defer func(d time.Duration) { trimInterval = d }(trimInterval)
	trimInterval = time.Hour // this test pages out by hand
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
	n, err := pageOutStore(real)
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

func TestValueLogMapping(t *testing.T) {
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
