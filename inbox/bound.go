package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values taken from payloads (dedup keys, interview ids, types) are
// bounded wherever an engine keys or indexes them: one longer than
// MaxKeyPart bytes is replaced by hashMark and the SHA-256 of its bytes,
// so lookups stay exact (two different long values never share a key)
// and every key stays small, whatever limit the engine's keys have.
const (
	// MaxKeyPart is the longest value kept as it is in a key.
	MaxKeyPart = 512
	hashMark   = "%#"
)

// boundPart returns s, or its hashed form when s is longer than
// MaxKeyPart. A short s that begins with hashMark is hashed too, so that
// no value can pose as the hash of another.
func boundPart(s string) string {
	if len(s) <= MaxKeyPart && !strings.HasPrefix(s, hashMark) {
		return s
	}
	return hashPart(s)
}

func hashPart(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hashMark + hex.EncodeToString(sum[:])
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

// foldCase maps s to one case, rune by rune, so that two strings equal
// but for case map to the same string and a prefix of s maps to a prefix
// of foldCase(s).
func foldCase(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}
