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

// backupOf returns a backup of a store holding n events, and their ids.
func backupOf(t *testing.T, n int) ([]byte, []string) {
	t.Helper()
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	var ids []string
	for i := range n {
		res, err := db.Accept(context.Background(), newEvent(fmt.Sprint("b-", i), fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	var buf bytes.Buffer
	if err := db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ids
}

// A backup that is not whole, or not a backup, is refused before
// anything is written: a new directory is not created, an empty one
// stays empty, and the same directory takes a whole backup afterwards.
func TestRestoreRefusesWhatIsNotAWholeBackup(t *testing.T) {
	b, ids := backupOf(t, 20)
	flipped := bytes.Clone(b)
	flipped[len(b)/2] ^= 0x40
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"empty":        {nil, badger.ErrDamaged},
		"cut at 213":   {b[:213], badger.ErrDamaged},
		"cut at half":  {b[:len(b)/2], badger.ErrDamaged},
		"last byte":    {b[:len(b)-1], badger.ErrDamaged},
		"byte changed": {flipped, badger.ErrDamaged},
		"appended":     {append(bytes.Clone(b), 0), badger.ErrDamaged},
		"yaml":         {[]byte("sources:\n  - name: koji\n    provider: koji\n"), badger.ErrNotBackup},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "new", "restored")
			if err := badger.Restore(dir, bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
				t.Fatalf("restore = %v, want %v", err, tc.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Fatalf("a refused restore left %d entries in %s", len(entries), parent)
			}
			if err := badger.Restore(parent, bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
				t.Fatalf("restore into an empty dir = %v, want %v", err, tc.want)
			}
			if err := badger.Restore(parent, bytes.NewReader(b)); err != nil {
				t.Fatalf("whole backup after a refused one: %v", err)
			}
			db := mustOpen(t, parent, badger.Options{})
			defer db.Close()
			for _, id := range ids {
				if _, err := db.Event(id); err != nil {
					t.Fatalf("event %s: %v", id, err)
				}
			}
		})
	}
}

// RestoreLegacy loads a bare Badger stream (a backup written before
// backups were framed), turns Badger's panic on a file that is no stream
// into an error with nothing left behind, and restores a framed backup
// with its checks.
func TestRestoreLegacy(t *testing.T) {
	b, ids := backupOf(t, 5)
	bare := b[bytes.IndexByte(b, '\n')+1 : bytes.LastIndex(b, []byte("porch-badger-backup-end "))]
	for name, in := range map[string][]byte{"bare": bare, "framed": b} {
		dir := filepath.Join(t.TempDir(), name)
		if err := badger.RestoreLegacy(dir, bytes.NewReader(in)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		db := mustOpen(t, dir, badger.Options{})
		if _, err := db.Event(ids[4]); err != nil {
			t.Errorf("%s: event after restore: %v", name, err)
		}
		db.Close()
	}
	if err := badger.RestoreLegacy(t.TempDir(), bytes.NewReader(b[:len(b)-1])); !errors.Is(err, badger.ErrDamaged) {
		t.Errorf("cut framed backup with RestoreLegacy = %v, want ErrDamaged", err)
	}
	parent := t.TempDir()
	err := badger.RestoreLegacy(filepath.Join(parent, "x"), bytes.NewReader([]byte("sources:\n  - name: koji\n")))
	if !errors.Is(err, badger.ErrDamaged) {
		t.Fatalf("yaml as a legacy backup = %v, want ErrDamaged", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a failed legacy restore left %d entries behind", len(entries))
	}
}

// Open with MustExist refuses a directory without a store and leaves it
// as it was.
func TestOpenMustExist(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := badger.Open(badger.Options{Dir: dir, MustExist: true}); !errors.Is(err, badger.ErrNoStore) {
		t.Fatalf("open = %v, want ErrNoStore", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("refused open left %d entries, want the 1 that was there", len(entries))
	}
	mustOpen(t, dir, badger.Options{}).Close()
	db, err := badger.Open(badger.Options{Dir: dir, MustExist: true})
	if err != nil {
		t.Fatalf("open an existing store: %v", err)
	}
	db.Close()
}
