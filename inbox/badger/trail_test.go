package badger_test

import (
	"fmt"
	"testing"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// trailActions is the trail's actions, newest first.
func trailActions(t *testing.T, db *badger.DB) map[string]int {
	t.Helper()
	list, err := db.AccessTrail(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, a := range list {
		n[a.Action]++
	}
	return n
}

func logN(t *testing.T, db *badger.DB, action string, n int) {
	t.Helper()
	for i := range n {
		if err := db.LogAccess(inbox.Access{Token: "fp", Action: action, Query: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// Each class of the trail is bounded on its own: searches push out older
// searches only, and sensitive reads older sensitive reads only. The
// bounds hold across a reopen.
func TestTrailClassesAreBoundedApart(t *testing.T) {
	dir := t.TempDir()
	opt := badger.Options{TrailSearchSize: 3, TrailLogSize: 4}
	db := mustOpen(t, dir, opt)
	logN(t, db, "export", 1)
	logN(t, db, "search", 10)
	if got := trailActions(t, db); got["export"] != 1 || got["search"] != 3 {
		t.Errorf("after searches: %v", got)
	}
	logN(t, db, "raw", 4)
	if got := trailActions(t, db); got["export"] != 0 || got["raw"] != 4 || got["search"] != 3 {
		t.Errorf("after raw reads: %v", got)
	}
	if got := db.TrailDropped(); got[inbox.TrailSearch] != 7 || got[inbox.TrailSensitive] != 1 {
		t.Errorf("dropped = %v", got)
	}
	db.Close()

	db = mustOpen(t, dir, opt)
	defer db.Close()
	logN(t, db, "search", 2)
	logN(t, db, "download", 1)
	if got := trailActions(t, db); got["search"] != 3 || got["raw"] != 3 || got["download"] != 1 {
		t.Errorf("after reopen: %v", got)
	}
	list, _ := db.AccessTrail(0, 1)
	if len(list) != 1 || list[0].Seq != 18 || list[0].Action != "download" {
		t.Errorf("newest = %+v", list)
	}
	if got := db.TrailDropped(); got[inbox.TrailSearch] != 2 || got[inbox.TrailSensitive] != 1 {
		t.Errorf("dropped since reopen = %v", got)
	}
}
