package badger

import (
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// Test hooks: the black-box tests alter the store behind the archive's
// back to show that verification notices.

// RewriteForTest replaces the value at key (e.g. "e/<id>", "b/<id>") with
// fn of it, as an attacker with access to the data directory could.
func (db *DB) RewriteForTest(key string, fn func([]byte) []byte) error {
	return db.bdb.Update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		return txn.Set([]byte(key), fn(v))
	})
}

// RewriteBodyForTest replaces the raw body in event id's record with fn
// of it, leaving the metadata before it as it is.
func (db *DB) RewriteBodyForTest(id string, fn func([]byte) []byte) error {
	return db.RewriteForTest(pfxEvent+id, func(v []byte) []byte {
		body, err := decodeRecord(v, new(inbox.Event))
		if err != nil {
			panic(err)
		}
		meta := v[:len(v)-len(body)]
		return append(append([]byte(nil), meta...), fn(body)...)
	})
}

// StoreAsOlderForTest rewrites event id as stores written before records
// carried bodies hold it: the metadata alone under e/<id>, the body
// under b/<id>.
func (db *DB) StoreAsOlderForTest(id string) error {
	return db.bdb.Update(func(txn *badger.Txn) error {
		var e inbox.Event
		body, err := getEvent(txn, id, &e, true)
		if err != nil {
			return err
		}
		if err := putJSON(txn, eventKey(id), &e); err != nil {
			return err
		}
		return txn.Set(bodyKey(id), append([]byte{}, body...))
	})
}

// DeleteForTest removes key.
func (db *DB) DeleteForTest(key string) error {
	return db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(key)) })
}

// SettleForTest marks the delivery of event id to dest with status, as
// forwarding would after an attempt.
func (db *DB) SettleForTest(id, dest, status string) error {
	return db.bdb.Update(func(txn *badger.Txn) error {
		return putJSON(txn, deliveryKey(id, dest), inbox.DeliveryState{Destination: dest, Status: status, UpdatedAt: time.Now()})
	})
}

// WaitFor is waitFor, for the external tests.
var WaitFor = waitFor

// Pending lists every outbox entry, earliest due first, claimed or not,
// for the external tests and the conformance suite's Pending hook.
func (db *DB) Pending() ([]inbox.Delivery, error) {
	var out []inbox.Delivery
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scanJSON(txn, pfxOutbox, func(d *inbox.Delivery) error {
			out = append(out, *d)
			return nil
		})
	})
	return out, err
}
