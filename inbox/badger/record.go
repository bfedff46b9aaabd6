package badger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// An event's record, e/<id>, is its metadata as one JSON object followed
// directly by its raw body: one value per event for the accept writer to
// store and the value log to hold. JSON is self-delimiting, so the body
// begins where the object ends whatever either holds, and an edit that
// changes the metadata's length still decodes and fails the event's hash.
// A store written before records carried bodies holds the metadata alone
// and the body under b/<id>; every read falls back to it.

// encodeRecord returns ev's record.
func encodeRecord(ev *inbox.Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return append(b, ev.Body...), nil
}

// decodeRecord decodes the metadata in record v into e and returns the
// body that follows it: a slice of v, empty in an older store's record.
func decodeRecord(v []byte, e *inbox.Event) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	if err := dec.Decode(e); err != nil {
		return nil, err
	}
	return v[dec.InputOffset():], nil
}

// getEvent reads event id's record in txn into e and, with withBody, also
// returns its body; ErrNotFound when there is no such event.
func getEvent(txn *badger.Txn, id string, e *inbox.Event, withBody bool) ([]byte, error) {
	item, err := txn.Get(eventKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, inbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read event %s: %w", id, err)
	}
	if !withBody {
		_, err := readRecord(txn, item, e, nil)
		return nil, err
	}
	return readRecord(txn, item, e, func(*inbox.Event) bool { return true })
}

// readRecord decodes item, an e/<id> record, into e and returns a copy of
// its body when wantBody (nil: never) asks for it once e is decoded, nil
// otherwise. The value is decoded where Badger holds it, so reading
// metadata alone copies no body.
func readRecord(txn *badger.Txn, item *badger.Item, e *inbox.Event, wantBody func(*inbox.Event) bool) ([]byte, error) {
	var body []byte
	want := false
	err := item.Value(func(v []byte) error {
		b, err := decodeRecord(v, e)
		if err != nil {
			return fmt.Errorf("decode %s: %w", item.Key(), err)
		}
		want = wantBody != nil && wantBody(e)
		if want && len(b) > 0 {
			body = bytes.Clone(b)
		}
		return nil
	})
	if err != nil || !want || body != nil {
		return body, err
	}
	return olderBody(txn, string(item.Key()[len(pfxEvent):]))
}

// olderBody reads the body an older store kept under b/<id>; empty when
// there is none, as for an empty body in a record of this build.
func olderBody(txn *badger.Txn, id string) ([]byte, error) {
	item, err := txn.Get(bodyKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return []byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read body %s: %w", id, err)
	}
	b, err := item.ValueCopy(nil)
	if b == nil && err == nil {
		b = []byte{}
	}
	return b, err
}
