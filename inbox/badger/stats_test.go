package badger_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox/badger"
)

func TestOutboxStatsCountsPerDestination(t *testing.T) {
	db := mustOpen(t, "", badger.Options{})
	defer db.Close()
	before := time.Now().Add(-time.Second)
	for i, dests := range [][]string{{"app", "audit"}, {"app"}, {"app"}, nil} {
		if _, err := db.Accept(context.Background(), newEvent(string(rune('a'+i)), string(rune('a'+i)), dests...)); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := db.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	if got := stats["app"].Depth; got != 3 {
		t.Errorf("app depth = %d, want 3", got)
	}
	if got := stats["audit"].Depth; got != 1 {
		t.Errorf("audit depth = %d, want 1", got)
	}
	if len(stats) != 2 {
		t.Errorf("stats = %+v, want only app and audit", stats)
	}
	if o := stats["app"].Oldest; o.Before(before) || o.After(time.Now()) {
		t.Errorf("app oldest = %s, not within the test", o)
	}
}

// TestDiskSizeCountsAllocatedBlocks: a sparse file (Badger creates its
// value log that way) adds only the blocks it holds, not its apparent
// size, and written bytes are all counted.
func TestDiskSizeCountsAllocatedBlocks(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, badger.Options{})
	defer db.Close()
	size := func() int64 {
		t.Helper()
		n, err := db.DiskSize()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size()
	sparse, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sparse.Truncate(256 << 20); err != nil {
		t.Fatal(err)
	}
	sparse.Close()
	if grew := size() - before; grew >= 1<<20 {
		t.Errorf("a 256 MiB sparse file grew DiskSize by %d bytes, want under 1 MiB", grew)
	}
	before = size()
	dense := make([]byte, 1<<20)
	rand.Read(dense) // incompressible, so a compressing file system stores it all
	if err := os.WriteFile(filepath.Join(dir, "dense"), dense, 0o600); err != nil {
		t.Fatal(err)
	}
	if grew := size() - before; grew < 1<<20 {
		t.Errorf("writing 1 MiB grew DiskSize by %d bytes, want at least 1 MiB", grew)
	}
}
