package inbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Enrichment keys.
const (
	pfxEnrichment   = "en/"          // en/<event id> → Enrichment (JSON)
	pfxReconcileHWM = "m/reconcile/" // m/reconcile/<source> → high-water mark (RFC 3339 text)
)

// Enrichment statuses.
const (
	// EnrichOK: the full record was fetched and is forwarded.
	EnrichOK = "ok"
	// EnrichProcessing: the provider is still preparing the record
	// (Gather summaryStatus "processing"); a re-fetch is scheduled.
	EnrichProcessing = "processing"
	// EnrichIncomplete: the record never finished processing within the
	// configured wait; the last one fetched is forwarded as it was.
	EnrichIncomplete = "incomplete"
	// EnrichFailed: the provider API kept failing. Depending on the
	// source's on_failure the event is forwarded without the record, or
	// held and retried.
	EnrichFailed = "failed"
)

// Enrichment is what porch fetched from a provider's API for one event,
// kept so that auditors see exactly what was forwarded. It never holds
// an API key.
type Enrichment struct {
	EventID     string `json:"event_id"`
	Source      string `json:"source"`
	InterviewID string `json:"interview_id"`
	Status      string `json:"status"` // EnrichOK, EnrichProcessing, EnrichIncomplete or EnrichFailed
	// Interview is the record as the provider returned it (the data
	// member of Gather's envelope; Koji's whole body); empty when none
	// was fetched.
	Interview json.RawMessage `json:"interview,omitempty"`
	FetchedAt time.Time       `json:"fetched_at,omitzero"` // when Interview was fetched
	FirstAt   time.Time       `json:"first_at"`            // first fetch attempt
	NextAt    time.Time       `json:"next_at,omitzero"`    // next fetch, while processing or held
	Attempts  int             `json:"attempts"`            // fetches made (each may retry inside)
	Refetches int             `json:"refetches,omitempty"` // fetches that answered "processing"
	LastError string          `json:"last_error,omitempty"`
	// ProviderRequestID is the provider's meta.requestId of the last
	// answer, for support tickets.
	ProviderRequestID string    `json:"provider_request_id,omitempty"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func enrichmentKey(id string) []byte { return []byte(pfxEnrichment + id) }

// PutEnrichment stores r under r.EventID, replacing any earlier record,
// and syncs it to disk before returning: what is forwarded after it is on
// record.
func (db *DB) PutEnrichment(r Enrichment) error {
	if r.EventID == "" {
		return errors.New("put enrichment: empty event id")
	}
	err := db.bdb.Update(func(txn *badger.Txn) error { return putJSON(txn, enrichmentKey(r.EventID), r) })
	if err == nil {
		err = db.bdb.Sync()
	}
	if err != nil {
		return fmt.Errorf("put enrichment %s: %w", r.EventID, err)
	}
	return nil
}

// Enrichment returns the enrichment record of event id, or an error
// wrapping ErrNotFound when there is none.
func (db *DB) Enrichment(id string) (Enrichment, error) {
	var r Enrichment
	err := db.bdb.View(func(txn *badger.Txn) error { return getJSON(txn, enrichmentKey(id), &r) })
	if err != nil {
		return Enrichment{}, fmt.Errorf("enrichment %s: %w", id, err)
	}
	return r, nil
}

// ReconcileMark returns the reconciliation high-water mark of source: the
// newest completion time its last successful run saw. It is the zero time
// before the first run.
func (db *DB) ReconcileMark(source string) (time.Time, error) {
	var t time.Time
	err := db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(pfxReconcileHWM + source))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return t.UnmarshalText(v) })
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("reconcile mark %s: %w", source, err)
	}
	return t, nil
}

// SetReconcileMark stores the reconciliation high-water mark of source.
func (db *DB) SetReconcileMark(source string, t time.Time) error {
	v, err := t.UTC().MarshalText()
	if err != nil {
		return fmt.Errorf("set reconcile mark %s: %w", source, err)
	}
	err = db.bdb.Update(func(txn *badger.Txn) error { return txn.Set([]byte(pfxReconcileHWM+source), v) })
	if err == nil {
		err = db.bdb.Sync()
	}
	if err != nil {
		return fmt.Errorf("set reconcile mark %s: %w", source, err)
	}
	return nil
}
