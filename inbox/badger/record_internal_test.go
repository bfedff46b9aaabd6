package badger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

func TestSplitRecord(t *testing.T) {
	ev := &inbox.Event{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Type: "interview.completed", Body: []byte("{\"a\":\"\n\x01\"}")}
	rec, err := encodeRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(ev)
	for _, c := range []struct {
		name     string
		v        []byte
		meta     []byte
		body     []byte
		withBody bool
		bad      bool
	}{
		{"record with its body", rec, meta, ev.Body, true, false},
		{"empty body", func() []byte { e := *ev; e.Body = nil; r, _ := encodeRecord(&e); return r }(), meta, nil, true, false},
		{"older store's metadata", meta, meta, nil, false, false},
		{"length past the end", []byte{recordWithBody, 0x7f, '{', '}'}, nil, nil, false, true},
		{"no length", []byte{recordWithBody}, nil, nil, false, true},
		{"length overflow", append([]byte{recordWithBody}, bytes.Repeat([]byte{0xff}, 11)...), nil, nil, false, true},
	} {
		m, b, ok, err := splitRecord(c.v)
		if (err != nil) != c.bad || ok != c.withBody || !bytes.Equal(m, c.meta) || !bytes.Equal(b, c.body) {
			t.Errorf("%s: meta %q body %q carries %v, %v", c.name, m, b, ok, err)
		}
	}
}

// A store written before records carried their bodies holds the
// metadata alone under e/ and the body under b/: every read still finds
// both, verification passes, and retention removes both.
func TestRecordsOfOlderStores(t *testing.T) {
	db := openTest(t)
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "iv-old",
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now().Add(-time.Hour),
		Body: []byte(`{"old":true}`), DedupKeys: []string{"k-old"},
	}
	sum := sha256.Sum256(ev.Body)
	ev.BodySize, ev.BodySHA256 = len(ev.Body), hex.EncodeToString(sum[:])
	res, err := db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	body := ev.Body
	err = db.bdb.Update(func(txn *badger.Txn) error {
		stored, err := db.Event(res.ID) // not in this txn: the record as committed
		if err != nil {
			return err
		}
		if err := putJSON(txn, eventKey(res.ID), stored); err != nil {
			return err
		}
		return txn.Set(bodyKey(res.ID), body)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.recent.drop(res.ID)

	if e, err := db.Event(res.ID); err != nil || e.InterviewID != "iv-old" {
		t.Errorf("Event: %+v, %v", e, err)
	}
	if b, err := db.Body(res.ID); err != nil || !bytes.Equal(b, body) {
		t.Errorf("Body: %q, %v", b, err)
	}
	if e, err := db.EventWithBody(res.ID); err != nil || !bytes.Equal(e.Body, body) {
		t.Errorf("EventWithBody: %+v, %v", e, err)
	}
	if v, err := db.Verify(context.Background()); err != nil || !v.OK || v.Checked != 1 {
		t.Errorf("Verify: %+v, %v", v, err)
	}
	var recs []inbox.Record
	if err := db.Export(context.Background(), time.Time{}, time.Time{}, func(r inbox.Record) error { recs = append(recs, r); return nil }); err != nil || len(recs) != 1 || !bytes.Equal(recs[0].Body, body) {
		t.Errorf("Export: %d records, %v", len(recs), err)
	}
	if rep, err := db.Prune(time.Now()); err != nil || rep.Removed != 1 {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	err = db.bdb.View(func(txn *badger.Txn) error {
		for _, k := range [][]byte{eventKey(res.ID), bodyKey(res.ID)} {
			if _, err := txn.Get(k); !errors.Is(err, badger.ErrKeyNotFound) {
				t.Errorf("%s left after prune: %v", k, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
