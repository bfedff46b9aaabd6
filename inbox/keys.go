package inbox

import (
	"encoding/binary"
	"time"
)

// Key prefixes. They are short and fixed; numbers inside keys are
// big-endian so that byte order is numeric order. The layout is
// documented in doc.go; change both together.
const (
	pfxEvent     = "e/"  // e/<id> → event metadata (JSON)
	pfxBody      = "b/"  // b/<id> → raw body bytes
	pfxDedup     = "d/"  // d/<source>/<key> → event id, with the dedup window as TTL
	pfxSightings = "s/"  // s/<id> → Sightings (JSON)
	pfxIdxIntv   = "xi/" // xi/<source>/<interview id>/<id> → empty
	pfxIdxType   = "xt/" // xt/<source>/<type>/<id> → empty
	pfxIdxStatus = "xs/" // xs/<status>/<id> → empty
	pfxReject    = "r/"  // r/<seq> → Rejection (JSON)
	keyHead      = "m/head"
)

func eventKey(id string) []byte { return []byte(pfxEvent + id) }
func bodyKey(id string) []byte  { return []byte(pfxBody + id) }
func sightingsKey(id string) []byte {
	return []byte(pfxSightings + id)
}
func dedupKey(source, key string) []byte {
	return []byte(pfxDedup + source + "/" + key)
}

// indexKeys lists the secondary index entries of e.
func indexKeys(e *Event) [][]byte {
	keys := [][]byte{
		[]byte(pfxIdxType + e.Source + "/" + e.Type + "/" + e.ID),
		[]byte(pfxIdxStatus + string(e.Status) + "/" + e.ID),
	}
	if e.InterviewID != "" {
		keys = append(keys, []byte(pfxIdxIntv+e.Source+"/"+e.InterviewID+"/"+e.ID))
	}
	return keys
}

// seqKey appends n big-endian to prefix.
func seqKey(prefix string, n uint64) []byte {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], n)
	return k
}

// timeBytes encodes t as big-endian Unix nanoseconds.
func timeBytes(t time.Time) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano()))
	return b
}
