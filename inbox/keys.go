package inbox

import (
	"encoding/binary"
	"strings"
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

// keyPart escapes "/" (and "%") in one component of a key, so that a
// prefix scan for interview "a" cannot also match interview "a/b".
func keyPart(s string) string {
	if !strings.ContainsAny(s, "/%") {
		return s
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

// indexPrefix returns the key prefix under which the index named by pfx
// (pfxIdxIntv, pfxIdxType, pfxIdxStatus) lists event ids for parts, each
// escaped with keyPart; the event id follows the prefix.
func indexPrefix(pfx string, parts ...string) string {
	var b strings.Builder
	b.WriteString(pfx)
	for _, p := range parts {
		b.WriteString(keyPart(p))
		b.WriteByte('/')
	}
	return b.String()
}

// indexKeys lists the secondary index entries of e.
func indexKeys(e *Event) [][]byte {
	keys := [][]byte{
		[]byte(indexPrefix(pfxIdxType, e.Source, e.Type) + e.ID),
		[]byte(indexPrefix(pfxIdxStatus, string(e.Status)) + e.ID),
	}
	if e.InterviewID != "" {
		keys = append(keys, []byte(indexPrefix(pfxIdxIntv, e.Source, e.InterviewID)+e.ID))
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
