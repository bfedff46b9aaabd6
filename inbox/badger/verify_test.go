package badger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

func exportAll(t *testing.T, db *badger.DB, since time.Time) []byte {
	t.Helper()
	var buf bytes.Buffer
	x := inbox.NewExportWriter(&buf)
	if err := db.Export(context.Background(), since, time.Time{}, x.Write); err != nil {
		t.Fatal(err)
	}
	if err := x.End(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyIntactArchive(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	seed(t, db, time.Now().Add(-time.Hour), 300) // more than one export chunk
	rep, err := db.Verify(context.Background())
	if err != nil || !rep.OK || rep.Checked != 300 || rep.LastSeq != 300 || rep.StartHash != inbox.GenesisHash {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

func TestVerifyNamesTheAlteredRecord(t *testing.T) {
	record := func(f func([]byte) []byte) func(*badger.DB, string) error {
		return func(db *badger.DB, id string) error { return db.RewriteForTest("e/"+id, f) }
	}
	body := func(f func([]byte) []byte) func(*badger.DB, string) error {
		return func(db *badger.DB, id string) error { return db.RewriteBodyForTest(id, f) }
	}
	older := func(key string, f func([]byte) []byte) func(*badger.DB, string) error {
		return func(db *badger.DB, id string) error {
			if err := db.StoreAsOlderForTest(id); err != nil {
				return err
			}
			return db.RewriteForTest(key+id, f)
		}
	}
	cases := []struct {
		name    string
		alter   func(db *badger.DB, id string) error
		problem string
	}{
		{"metadata field", record(func(b []byte) []byte { return bytes.Replace(b, []byte(`"i-1"`), []byte(`"i-9"`), 1) }), "metadata hashes to"},
		// The body begins where the metadata's JSON ends, wherever that is.
		{"metadata longer", record(func(b []byte) []byte { return bytes.Replace(b, []byte(`"i-1"`), []byte(`"i-1000"`), 1) }), "metadata hashes to"},
		{"metadata shorter", record(func(b []byte) []byte { return bytes.Replace(b, []byte(`"i-1"`), []byte(`"i"`), 1) }), "metadata hashes to"},
		{"raw body", body(func(b []byte) []byte { return bytes.Replace(b, []byte(`:`), []byte(`: `), 1) }), "raw body is"},
		{"body same length", body(func(b []byte) []byte { return bytes.Replace(b, []byte(`4`), []byte(`5`), 1) }), "raw body hashes to"},
		{"older store's metadata", older("e/", func(b []byte) []byte { return bytes.Replace(b, []byte(`"i-1"`), []byte(`"i-1000"`), 1) }), "metadata hashes to"},
		{"older store's body", older("b/", func(b []byte) []byte { return bytes.Replace(b, []byte(`4`), []byte(`5`), 1) }), "raw body hashes to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := mustOpen(t, t.TempDir(), badger.Options{})
			defer db.Close()
			ids := seed(t, db, time.Now().Add(-time.Hour), 10)
			if err := c.alter(db, ids[4]); err != nil {
				t.Fatal(err)
			}
			rep, err := db.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.Broken == nil || rep.Broken.ID != ids[4] || rep.Broken.Seq != 5 || rep.Checked != 4 {
				t.Fatalf("verify = %+v broken %+v; want a break at %s seq 5", rep, rep.Broken, ids[4])
			}
			if !strings.Contains(rep.Broken.Problem, c.problem) {
				t.Errorf("problem = %q, want %q", rep.Broken.Problem, c.problem)
			}
		})
	}
}

// A store written before records carried bodies (metadata under e/, body
// under b/) reads back whole: events, bodies, search, export and verify.
func TestOlderRecordsReadBack(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	ids := seed(t, db, time.Now().Add(-time.Hour), 6)
	want := exportAll(t, db, time.Time{})
	for _, id := range ids[1:4] {
		if err := db.StoreAsOlderForTest(id); err != nil {
			t.Fatal(err)
		}
	}
	if got := exportAll(t, db, time.Time{}); !bytes.Equal(got, want) {
		t.Fatalf("export after rewriting three events the older way differs:\n%s\nwant\n%s", got, want)
	}
	if page, err := db.List(inbox.Query{Limit: 10}); err != nil || len(page.Events) != 6 {
		t.Fatalf("search = %d events, %v; want 6", len(page.Events), err)
	}
	for _, id := range ids {
		b, err := db.Body(id)
		if err != nil || len(b) == 0 {
			t.Fatalf("body %s = %q, %v", id, b, err)
		}
		ev, err := db.EventWithBody(id)
		if err != nil || !bytes.Equal(ev.Body, b) || ev.ID != id {
			t.Fatalf("event with body %s = %+v, %v", id, ev, err)
		}
	}
	if rep, err := db.Verify(context.Background()); err != nil || !rep.OK || rep.Checked != 6 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

func TestVerifyNoticesDeletedEvents(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	ids := seed(t, db, time.Now().Add(-time.Hour), 6)
	_ = db.DeleteForTest("e/" + ids[2])
	rep, _ := db.Verify(context.Background())
	if rep.OK || rep.Broken.ID != ids[3] || !strings.Contains(rep.Broken.Problem, "missing") {
		t.Errorf("middle deleted: %+v", rep.Broken)
	}
	db2 := mustOpen(t, t.TempDir(), badger.Options{})
	defer db2.Close()
	ids = seed(t, db2, time.Now().Add(-time.Hour), 6)
	_ = db2.DeleteForTest("e/" + ids[5])
	rep, _ = db2.Verify(context.Background())
	if rep.OK || rep.Broken.Seq != 6 || !strings.Contains(rep.Broken.Problem, "head") {
		t.Errorf("tail deleted: %+v", rep.Broken)
	}
}

func TestVerifyExportOffline(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	t0 := time.Now().Add(-time.Hour)
	seed(t, db, t0, 8)
	full := exportAll(t, db, time.Time{})
	rep, err := inbox.VerifyExport(bytes.NewReader(full))
	if err != nil || !rep.OK || rep.Checked != 8 {
		t.Fatalf("full export: %+v, %v", rep, err)
	}
	// A partial export starts mid-chain and verifies from its first
	// record's prev_hash.
	part := exportAll(t, db, t0.Add(3*time.Second))
	rep, err = inbox.VerifyExport(bytes.NewReader(part))
	if err != nil || !rep.OK || rep.Checked != 5 || rep.StartSeq != 3 {
		t.Fatalf("partial export: %+v, %v", rep, err)
	}
	// Tamper with line 6's raw body (base64 of {"n":5}).
	lines := bytes.Split(bytes.TrimSpace(full), []byte("\n"))
	var rec map[string]any
	_ = json.Unmarshal(lines[5], &rec)
	rec["body"] = []byte(`{"n":6}`)
	lines[5], _ = json.Marshal(rec)
	rep, err = inbox.VerifyExport(bytes.NewReader(bytes.Join(lines, []byte("\n"))))
	if err != nil || rep.OK || rep.Broken.Line != 6 || rep.Broken.Seq != 6 || rep.Checked != 5 {
		t.Fatalf("tampered export: %+v %+v, %v", rep, rep.Broken, err)
	}
	// A dropped line breaks the chain at the next one.
	dropped := bytes.Join(append(append([][]byte{}, lines[:2]...), lines[3:]...), []byte("\n"))
	rep, _ = inbox.VerifyExport(bytes.NewReader(dropped))
	if rep.OK || rep.Broken.Line != 3 || rep.Broken.Seq != 4 {
		t.Errorf("dropped line: %+v", rep.Broken)
	}
	rep, _ = inbox.VerifyExport(strings.NewReader("{not json\n"))
	if rep.OK || rep.Broken.Line != 1 {
		t.Errorf("garbage: %+v", rep.Broken)
	}
}

func TestExportLargeBodiesInChunks(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	for i := range 10 {
		body := `{"pad":"` + strings.Repeat(string(rune('a'+i)), 900<<10) + `"}`
		ev := newEvent(fmt.Sprint("big-", i), body)
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err := db.Export(context.Background(), time.Time{}, time.Time{}, func(r inbox.Record) error {
		n++
		if len(r.Body) != r.BodySize || r.Body[8] != byte('a'+r.Seq-1) {
			t.Errorf("record %d: body %d bytes, size %d", r.Seq, len(r.Body), r.BodySize)
		}
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("exported %d, %v", n, err)
	}
	if rep, _ := db.Verify(context.Background()); !rep.OK || rep.Checked != 10 {
		t.Errorf("verify = %+v", rep)
	}
}

// An event with an empty body exports its body as "" (a string, as the
// export's schema says), whether its record is this build's or an
// older store's.
func TestEmptyBodyExportsAsEmptyString(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	for i := range 2 {
		r, err := db.Accept(context.Background(), &inbox.Event{Source: "koji", Provider: "koji", Type: "x",
			Status: inbox.StatusQuarantined, Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: []byte{},
			BodySHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", DedupKeys: []string{fmt.Sprint("empty-", i)}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := db.StoreAsOlderForTest(r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := exportAll(t, db, time.Time{})
	if n := bytes.Count(out, []byte(`"body":""`)); n != 2 || bytes.Contains(out, []byte(`"body":null`)) {
		t.Fatalf("export has %d empty-string bodies, want 2:\n%s", n, out)
	}
}

// Verify reads each record once and holds a chunk of bodies at a time,
// not the whole archive's: over 24 bodies of about 1 MiB its heap grows
// by far less than their total (a walk that prefetched records, bodies
// and all, held every one of them at once).
func TestVerifyHoldsFewBodiesAtOnce(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	const n, size = 24, 1<<20 - 4<<10
	for i := range n {
		ev := newEvent(fmt.Sprint("big-", i), fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", size)))
		ev.DedupKeys = []string{fmt.Sprint("big:", i)}
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10)) // keep garbage from hiding what is held
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}()
	rep, err := db.Verify(context.Background())
	close(done)
	<-sampled
	if err != nil || !rep.OK || rep.Checked != n {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
	if grew := peak - base; grew > 12<<20 {
		t.Errorf("verify over %d bodies of %d KiB grew the heap by %d MiB; a chunk of bodies is about 5 MiB", n, size>>10, grew>>20)
	}
}
