package badger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// TestBackupRestoreKeepsEveryEvent takes an online backup while deliveries
// keep arriving, restores it into a fresh directory and finds every event
// committed before the backup began: body byte-identical, chain linked.
func TestBackupRestoreKeepsEveryEvent(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	bodies := map[string]string{}
	for i := range 50 {
		body := fmt.Sprintf(`{"event":"interview.completed","n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), i*60))
		res, err := db.Accept(context.Background(), newEvent(fmt.Sprintf("i-%d", i), body, "app"))
		if err != nil {
			t.Fatal(err)
		}
		bodies[res.ID] = body
	}
	late := make([]string, 20)
	var wg sync.WaitGroup
	wg.Go(func() { // concurrent intake during the backup
		for i := range late {
			res, err := db.Accept(context.Background(), newEvent(fmt.Sprintf("late-%d", i), fmt.Sprintf(`{"late":%d}`, i)))
			if err != nil {
				t.Error(err)
			}
			late[i] = res.ID
		}
	})
	var buf bytes.Buffer
	if err := db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	dir := filepath.Join(t.TempDir(), "restored")
	if err := badger.Restore(dir, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	rdb := mustOpen(t, dir, badger.Options{})
	defer rdb.Close()
	for id, want := range bodies {
		ev, err := rdb.Event(id)
		if err != nil {
			t.Fatalf("event %s: %v", id, err)
		}
		if ev.Hash != inbox.ChainHash(ev) {
			t.Errorf("event %s: hash does not verify", id)
		}
		got, err := rdb.Body(id)
		if err != nil || string(got) != want {
			t.Errorf("body %s = %q, %v", id, got, err)
		}
	}
	ids := late
	for id := range bodies {
		ids = append(ids, id)
	}
	checkChain(t, rdb, ids, len(bodies))
	// The dedup window came along: a redelivery is still a duplicate.
	res, err := rdb.Accept(context.Background(), newEvent("i-3", `{"other":"bytes"}`, "app"))
	if err != nil || !res.Duplicate {
		t.Errorf("redelivery after restore = %+v, %v; want duplicate", res, err)
	}
}

// checkChain finds which of ids are in db, walks the chain from the
// newest of them back to genesis via PrevHash, and expects every link to
// be there and at least n of them.
func checkChain(t *testing.T, db *badger.DB, ids []string, n int) {
	t.Helper()
	byHash := map[string]*inbox.Event{}
	var head *inbox.Event
	for _, id := range ids {
		ev, err := db.Event(id)
		if errors.Is(err, inbox.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		byHash[ev.Hash] = ev
		if head == nil || ev.Seq > head.Seq {
			head = ev
		}
	}
	count := 0
	for h := head.Hash; h != inbox.GenesisHash; count++ {
		ev, ok := byHash[h]
		if !ok {
			t.Fatalf("chain broken at %s after %d links", h, count)
		}
		h = ev.PrevHash
	}
	if count != len(byHash) || count < n {
		t.Errorf("chain has %d links over %d restored events, want at least %d", count, len(byHash), n)
	}
}

func TestRestoreRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := badger.Restore(dir, bytes.NewReader(nil))
	if !errors.Is(err, badger.ErrNotEmpty) {
		t.Fatalf("restore into non-empty dir = %v, want ErrNotEmpty", err)
	}
}
