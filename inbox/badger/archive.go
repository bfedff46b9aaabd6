package badger

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// Event returns the archived metadata of event id, without its body, or
// ErrNotFound.
func (db *DB) Event(id string) (*inbox.Event, error) {
	var e inbox.Event
	err := db.bdb.View(func(txn *badger.Txn) error {
		_, err := getEvent(txn, id, &e, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	return &e, nil
}

// Body returns the exact bytes received for event id, or ErrNotFound.
func (db *DB) Body(id string) ([]byte, error) {
	var b []byte
	err := db.bdb.View(func(txn *badger.Txn) (err error) {
		b, err = getEvent(txn, id, new(inbox.Event), true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("body %s: %w", id, err)
	}
	return b, nil
}

// Sightings returns the duplicate deliveries recorded against event id;
// the zero value when there were none.
func (db *DB) Sightings(id string) (inbox.Sightings, error) {
	var s inbox.Sightings
	err := db.bdb.View(func(txn *badger.Txn) error { return getJSON(txn, sightingsKey(id), &s) })
	if err != nil && !errors.Is(err, inbox.ErrNotFound) {
		return s, fmt.Errorf("sightings %s: %w", id, err)
	}
	return s, nil
}

// LookupDedup returns the id of the event holding dedup key key of source,
// or ErrNotFound when the key is not in the window.
func (db *DB) LookupDedup(source, key string) (string, error) {
	var id string
	err := db.bdb.View(func(txn *badger.Txn) (err error) {
		id, err = db.dedupHolder(txn, source, key, false)
		return err
	})
	if err == nil && id == "" {
		err = inbox.ErrNotFound
	}
	return id, err
}

// scanJSON decodes every value under prefix, in key order, into a fresh T
// and passes it to fn.
func scanJSON[T any](txn *badger.Txn, prefix string, fn func(*T) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v := new(T)
		err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, v) })
		if err != nil {
			return fmt.Errorf("decode %s: %w", it.Item().Key(), err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
