package badger_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

func TestEnrichmentRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Enrichment("01NOPE"); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	rec := inbox.Enrichment{EventID: "01ABC", Source: "gather", InterviewID: "ci-1", Status: inbox.EnrichOK,
		Interview: json.RawMessage(`{"summary":"x"}`), FetchedAt: at, FirstAt: at, Attempts: 1, ProviderRequestID: "r-1", UpdatedAt: at}
	if err := db.PutEnrichment(rec); err != nil {
		t.Fatal(err)
	}
	if err := db.PutEnrichment(inbox.Enrichment{}); err == nil {
		t.Fatal("record without event id stored")
	}
	if mark, err := db.ReconcileMark("gather"); err != nil || !mark.IsZero() {
		t.Fatalf("mark before any run = %s, %v", mark, err)
	}
	if err := db.SetReconcileMark("gather", at); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Enrichment("01ABC")
	if err != nil || got.Status != rec.Status || string(got.Interview) != string(rec.Interview) || got.ProviderRequestID != "r-1" || !got.FetchedAt.Equal(at) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if mark, err := db.ReconcileMark("gather"); err != nil || !mark.Equal(at) {
		t.Fatalf("mark = %s, %v", mark, err)
	}
}
