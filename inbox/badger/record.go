package badger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// An event's record (e/<id>) holds its metadata and its raw body in one
// value: recordWithBody, the metadata's length (uvarint), the metadata
// (JSON), then the body, byte for byte. One entry per event instead of
// two costs the accept writer a key and a value-log entry less. Records
// that begin with '{' are older stores' metadata alone, whose body is
// under b/<id>.
const recordWithBody = 0x01

// encodeRecord is ev's record: its metadata and ev.Body.
func encodeRecord(ev *inbox.Event) ([]byte, error) {
	meta, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	v := make([]byte, 0, 1+binary.MaxVarintLen64+len(meta)+len(ev.Body))
	v = append(v, recordWithBody)
	v = binary.AppendUvarint(v, uint64(len(meta)))
	v = append(v, meta...)
	return append(v, ev.Body...), nil
}

// splitRecord returns a record's metadata, and its body when it carries
// one (ok false: an older store's record, body under b/).
func splitRecord(v []byte) (meta, body []byte, ok bool, err error) {
	if len(v) == 0 || v[0] != recordWithBody {
		return v, nil, false, nil
	}
	n, k := binary.Uvarint(v[1:])
	if k <= 0 || n > uint64(len(v)-1-k) {
		return nil, nil, false, errors.New("event record: bad metadata length")
	}
	start := 1 + k
	return v[start : start+int(n)], v[start+int(n):], true, nil
}

// decodeRecord decodes a record's metadata into e, leaving e.Body alone.
func decodeRecord(v []byte, e *inbox.Event) error {
	meta, _, _, err := splitRecord(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(meta, e)
}

// getEvent reads the metadata of event id in txn into e, or returns
// ErrNotFound.
func getEvent(txn *badger.Txn, id string, e *inbox.Event) error {
	item, err := txn.Get(eventKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return inbox.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read event %s: %w", id, err)
	}
	return item.Value(func(v []byte) error {
		if err := decodeRecord(v, e); err != nil {
			return fmt.Errorf("decode event %s: %w", id, err)
		}
		return nil
	})
}

// getBody reads the raw body of event id in txn, or ErrNotFound.
func getBody(txn *badger.Txn, id string) ([]byte, error) {
	item, err := txn.Get(eventKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, inbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read body %s: %w", id, err)
	}
	var body []byte
	found := false
	err = item.Value(func(v []byte) error {
		_, b, ok, err := splitRecord(v)
		if ok {
			body, found = append([]byte{}, b...), true
		}
		return err
	})
	if err != nil || found {
		return body, err
	}
	item, err = txn.Get(bodyKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, inbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read body %s: %w", id, err)
	}
	return item.ValueCopy(nil)
}
