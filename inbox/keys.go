package inbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
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
	pfxIdxFold   = "xf/" // xf/<folded interview id>/<id> → empty
	pfxReject    = "r/"  // r/<seq> → Rejection (JSON)
	keyHead      = "m/head"
)

func eventKey(id string) []byte { return []byte(pfxEvent + id) }
func bodyKey(id string) []byte  { return []byte(pfxBody + id) }
func sightingsKey(id string) []byte {
	return []byte(pfxSightings + id)
}

// dedupKey is d/<source>/<key>. The source is escaped like an index
// component, so the first "/" ends it; the key is kept as given (older
// stores hold it so) unless boundPart must replace it with its hash.
func dedupKey(source, key string) []byte {
	return []byte(pfxDedup + keyPart(source) + "/" + boundPart(key))
}

// Key components taken from payloads are bounded: Badger refuses keys
// over 65,000 bytes, and one refused key would fail the whole group
// commit. A component longer than maxKeyPart is replaced by hashMark and
// the SHA-256 of its bytes, so lookups stay exact (two different long
// values never share a key) and every key stays small.
const (
	maxKeyPart = 512
	hashMark   = "%#"
)

// boundPart returns s, or its hashed form when s is longer than
// maxKeyPart. A short s that begins with hashMark is hashed too, so that
// no value can pose as the hash of another.
func boundPart(s string) string {
	if len(s) <= maxKeyPart && !strings.HasPrefix(s, hashMark) {
		return s
	}
	return hashPart(s)
}

func hashPart(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hashMark + hex.EncodeToString(sum[:])
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
// hashes a component longer than maxKeyPart. Escaping never produces
// hashMark ("%" becomes "%25"), so the two forms cannot meet.
func keyPart(s string) string {
	if len(s) > maxKeyPart {
		return hashPart(s)
	}
	return escapePart(s)
}

// Stores written before key parts were bounded hold a long part whole
// (escaped, in index keys), and a dedup key that begins with hashMark
// as it is. The legacy functions give those forms, so that such keys
// are still found and removed; ok is false when no such key can exist:
// the parts are short, or the key would be over Badger's limit.
const maxBadgerKey = 65000

func legacyDedupKey(source, key string) (k []byte, ok bool) {
	if boundPart(key) == key {
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
		long = long || len(p) > maxKeyPart
		b.WriteString(escapePart(p))
		b.WriteByte('/')
	}
	return b.String(), long && b.Len()+ulid.EncodedSize <= maxBadgerKey
}

// legacyIndexKeys lists the index entries of e that a store written
// before parts were bounded may hold in the older form.
func legacyIndexKeys(e *Event) [][]byte {
	var keys [][]byte
	if p, ok := legacyIndexPrefix(pfxIdxType, e.Source, e.Type); ok {
		keys = append(keys, []byte(p+e.ID))
	}
	if p, ok := legacyIndexPrefix(pfxIdxIntv, e.Source, e.InterviewID); ok && e.InterviewID != "" {
		keys = append(keys, []byte(p+e.ID))
	}
	return keys
}

// asStored returns s as the archive's JSON stores it: each byte that is
// not part of valid UTF-8 becomes U+FFFD, as encoding/json writes it.
// Index keys and searches use this form too, so that what a search
// compares (the stored field) and the key it walks agree.
func asStored(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
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

// indexKeys lists the secondary index entries of e.
func indexKeys(e *Event) [][]byte {
	keys := [][]byte{
		[]byte(indexPrefix(pfxIdxType, e.Source, e.Type) + e.ID),
		[]byte(indexPrefix(pfxIdxStatus, string(e.Status)) + e.ID),
	}
	if e.InterviewID != "" {
		keys = append(keys,
			[]byte(indexPrefix(pfxIdxIntv, e.Source, e.InterviewID)+e.ID),
			[]byte(pfxIdxFold+foldPart(e.InterviewID)+"/"+e.ID))
	}
	return keys
}

// foldCase maps s to one case, rune by rune, so that two strings equal
// but for case map to the same string and a prefix of s maps to a prefix
// of foldCase(s).
func foldCase(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}

// foldPart is the key component of the folded interview index: s case
// folded, cut to at most maxKeyPart bytes on a rune boundary, escaped.
// Unlike keyPart it never hashes, since the index serves prefix searches;
// cutting keeps a key's start, which is all a prefix search needs, and
// the search compares the stored id itself for what lies beyond the cut.
// Escaping works rune by rune, so a prefix's component is a prefix of
// the full value's component.
func foldPart(s string) string {
	s = foldCase(s)
	if len(s) > maxKeyPart {
		n := maxKeyPart
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return escapePart(s)
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
