package badger_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// hugeRejection is an entry whose headers alone are about 60 KB, as a
// client sending 240 X-Forwarded-For headers of 250 bytes could make.
func hugeRejection(i int) inbox.Rejection {
	xff := make([]string, 240)
	for j := range xff {
		xff[j] = strings.Repeat("x", 250)
	}
	return inbox.Rejection{Kind: "control", Source: "koji", Reason: fmt.Sprint("r", i), Status: 200,
		Headers: map[string][]string{"X-Forwarded-For": xff}}
}

// logBytes is the stored size of the whole rejection log, and its entries.
func logBytes(t *testing.T, db *badger.DB) (total int, entries []inbox.Rejection) {
	t.Helper()
	entries, err := db.Rejections(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range entries {
		b, _ := json.Marshal(r)
		total += len(b)
	}
	return total, entries
}

// The rejection log is bounded in bytes as well as entries, across
// restarts, however large the entries its callers hand it; the newest
// entries are the ones kept.
func TestRejectionLogIsBoundedInBytes(t *testing.T) {
	const limit = 64 << 10
	dir := t.TempDir()
	opt := badger.Options{RejectedLogBytes: limit}
	for round := range 2 {
		db := mustOpen(t, dir, opt)
		for i := range 200 {
			db.LogRejection(hugeRejection(round*200 + i))
		}
		db.Close() // drains the log writer
	}
	db := mustOpen(t, dir, opt)
	defer db.Close()
	total, entries := logBytes(t, db)
	if total > limit {
		t.Errorf("rejection log holds %d bytes in %d entries, over its %d-byte limit", total, len(entries), limit)
	}
	if len(entries) == 0 || entries[0].Reason != "r399" {
		t.Fatalf("newest entry kept is %+v, want r399", entries[:min(1, len(entries))])
	}
	b, _ := json.Marshal(entries[0])
	if len(b) > inbox.MaxRejectionBytes {
		t.Errorf("one entry stores %d bytes, over %d", len(b), inbox.MaxRejectionBytes)
	}
	if len(entries[0].Headers) == 0 {
		t.Errorf("an oversized entry lost all its headers; want them cut down, not dropped")
	}
}

// A rejection's stored headers say how many values were dropped, counted
// once against what arrived.
func TestRejectionHeadersCountWhatWasDropped(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, badger.Options{})
	vs := make([]string, 1000)
	for i := range vs {
		vs[i] = "10.0.0.1"
	}
	db.LogRejection(inbox.Rejection{Kind: "rejected", Source: "koji", Headers: map[string][]string{"X-Forwarded-For": vs}})
	db.Close() // drains the log writer
	db = mustOpen(t, dir, badger.Options{})
	defer db.Close()
	_, got := logBytes(t, db)
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	xff := got[0].Headers["X-Forwarded-For"]
	if len(xff) != inbox.MaxHeaderValues+1 || xff[len(xff)-1] != "…992 more" {
		t.Errorf("%d values ending %q, want %d ending \"…992 more\"", len(xff), xff[len(xff)-1], inbox.MaxHeaderValues+1)
	}
}
