package badger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/porchgw/porch/inbox"
)

// Key prefixes. They are short and fixed; numbers inside keys are
// big-endian so that byte order is numeric order. The layout is
// documented in doc.go; change both together.
const (
	pfxEvent     = "e/"  // e/<id> → event metadata (JSON) then raw body
	pfxBody      = "b/"  // b/<id> → raw body bytes; older stores only
	pfxDedup     = "d/"  // d/<source>/<0xFF, 16 bytes of the key's SHA-256> → event id, with the dedup window as TTL
	pfxSightings = "s/"  // s/<id> → Sightings (JSON)
	pfxIdxIntv   = "xi/" // xi/<source>/<interview id>/<id> → empty; older stores only
	pfxIdxType   = "xt/" // xt/<source>/<type>/<id> → empty
	pfxIdxStatus = "xs/" // xs/<status>/<id> → empty
	pfxIdxFold   = "xf/" // xf/<folded interview id>/<id> → empty
	pfxReject    = "r/"  // r/<seq> → Rejection (JSON)
	keyHead      = "m/head"
)

func eventKey(id string) []byte { return []byte(pfxEvent + id) }
func bodyKey(id string) []byte  { return []byte(pfxBody + id) }
func sightingsKey(id string) []byte {
	return []byte(pfxSightings + id)
}

// dedupKey is d/<source>/ then the byte 0xFF and the first 16 bytes of
// the key's SHA-256: short and of one length whatever the key, which
// keeps the tree small to compact (dedup keys are random, so every
// compaction of fresh keys rewrites the level below it). The source is
// escaped like an index component, so the first "/" ends it.
func dedupKey(source, key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return append(append([]byte(pfxDedup+keyPart(source)+"/"), 0xFF), sum[:16]...)
}

// textDedupKey is the form stores wrote before dedupKey hashed keys:
// d/<source>/<key>, the key kept as given unless inbox.BoundKey replaced
// it with its hash. The two forms meet only for a key of 17 bytes that
// begins with 0xFF, which no provider's key is (they are UTF-8, the event
// name first). Keys in it leave with the dedup window.
func textDedupKey(source, key string) []byte {
	return []byte(pfxDedup + keyPart(source) + "/" + inbox.BoundKey(key))
}

// hashedDedupKey reports whether k, a d/ key, is in dedupKey's form. The
// source part ends at the first "/" (keyPart escapes any other).
func hashedDedupKey(k []byte) bool {
	rest := k[len(pfxDedup):]
	i := bytes.IndexByte(rest, '/')
	return i >= 0 && len(rest) == i+18 && rest[i+1] == 0xFF
}

// escapePart escapes "%" and "/" in s.
func escapePart(s string) string {
	if !strings.ContainsAny(s, "/%") {
		return s
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

// keyPart escapes "/" (and "%") in one component of a key, so that a
// prefix scan for interview "a" cannot also match interview "a/b", and
// hashes a component longer than inbox.MaxKeyPart. Escaping never produces
// "%#" ("%" becomes "%25"), so the two forms cannot meet.
func keyPart(s string) string {
	if len(s) > inbox.MaxKeyPart {
		return inbox.BoundKey(s)
	}
	return escapePart(s)
}

// Stores written before key parts were bounded hold a long part whole
// (escaped, in index keys), and a dedup key that begins with "%#"
// as it is. The legacy functions give those forms, so that such keys
// are still found and removed; ok is false when no such key can exist:
// the parts are short, or the key would be over Badger's limit.
const maxBadgerKey = 65000

func legacyDedupKey(source, key string) (k []byte, ok bool) {
	if inbox.BoundKey(key) == key {
		return nil, false
	}
	k = []byte(pfxDedup + keyPart(source) + "/" + key)
	return k, len(k) <= maxBadgerKey
}

// legacyIndexPrefix is indexPrefix as it was before parts were bounded.
func legacyIndexPrefix(pfx string, parts ...string) (string, bool) {
	long := false
	var b strings.Builder
	b.WriteString(pfx)
	for _, p := range parts {
		long = long || len(p) > inbox.MaxKeyPart
		b.WriteString(escapePart(p))
		b.WriteByte('/')
	}
	return b.String(), long && b.Len()+ulid.EncodedSize <= maxBadgerKey
}

// legacyIndexKeys lists the index entries of e that an older store may
// hold: long parts in their unbounded form, accepted events in the
// status index, and the exact interview index (xi/), which the folded
// one replaced.
func legacyIndexKeys(e *inbox.Event) [][]byte {
	var keys [][]byte
	if e.InterviewID != "" {
		keys = append(keys, []byte(indexPrefix(pfxIdxIntv, e.Source, e.InterviewID)+e.ID))
	}
	if p, ok := legacyIndexPrefix(pfxIdxType, e.Source, e.Type); ok {
		keys = append(keys, []byte(p+e.ID))
	}
	if p, ok := legacyIndexPrefix(pfxIdxIntv, e.Source, e.InterviewID); ok && e.InterviewID != "" {
		keys = append(keys, []byte(p+e.ID))
	}
	if e.Status == inbox.StatusAccepted {
		keys = append(keys, []byte(indexPrefix(pfxIdxStatus, string(e.Status))+e.ID))
	}
	return keys
}

// indexPrefix returns the key prefix under which the index named by pfx
// (pfxIdxIntv, pfxIdxType, pfxIdxStatus) lists event ids for parts, each
// made a key component with keyPart; the event id follows the prefix.
func indexPrefix(pfx string, parts ...string) string {
	var b strings.Builder
	b.WriteString(pfx)
	for _, p := range parts {
		b.WriteString(keyPart(p))
		b.WriteByte('/')
	}
	return b.String()
}

// indexKeys lists the secondary index entries of e. Almost every event
// is accepted, so only the others are in the status index: a search for
// the accepted walks the archive and skips the few others.
func indexKeys(e *inbox.Event) [][]byte {
	keys := [][]byte{[]byte(indexPrefix(pfxIdxType, e.Source, e.Type) + e.ID)}
	if e.Status != inbox.StatusAccepted {
		keys = append(keys, []byte(indexPrefix(pfxIdxStatus, string(e.Status))+e.ID))
	}
	if e.InterviewID != "" {
		keys = append(keys, []byte(pfxIdxFold+foldPart(e.InterviewID)+"/"+e.ID))
	}
	return keys
}

// foldPart is the key component of the folded interview index: s case
// folded, cut to at most inbox.MaxKeyPart bytes on a rune boundary, escaped.
// Unlike keyPart it never hashes, since the index serves prefix searches;
// cutting keeps a key's start, which is all a prefix search needs, and
// the search compares the stored id itself for what lies beyond the cut.
// Escaping works rune by rune, so a prefix's component is a prefix of
// the full value's component.
func foldPart(s string) string { return escapePart(inbox.FoldInterview(s)) }

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
