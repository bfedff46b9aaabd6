package badger

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// Enrichment keys.
const (
	pfxEnrichment   = "en/"          // en/<event id> → Enrichment (JSON)
	pfxReconcileHWM = "m/reconcile/" // m/reconcile/<source> → high-water mark (RFC 3339 text)
)

func enrichmentKey(id string) []byte { return []byte(pfxEnrichment + id) }

// PutEnrichment stores r under r.EventID, replacing any earlier record,
// and syncs it to disk before returning: what is forwarded after it is on
// record.
func (db *DB) PutEnrichment(r inbox.Enrichment) error {
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
func (db *DB) Enrichment(id string) (inbox.Enrichment, error) {
	var r inbox.Enrichment
	err := db.bdb.View(func(txn *badger.Txn) error { return getJSON(txn, enrichmentKey(id), &r) })
	if err != nil {
		return inbox.Enrichment{}, fmt.Errorf("enrichment %s: %w", id, err)
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
