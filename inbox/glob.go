package inbox

import (
	"path"
	"strings"
)

// MatchGlob reports whether name matches pattern, in path.Match syntax
// except that '/' is a character like any other: "source:event" keys
// and event types are names, not paths, so "*" and "koji:*" match
// "koji:a/b" as well. A malformed pattern matches nothing; config checks
// reject it first (path.Match with an empty name reports it).
func MatchGlob(pattern, name string) bool {
	ok, _ := path.Match(slashless(pattern), slashless(name))
	return ok
}

// slashless replaces '/' with U+FFFF, a noncharacter, which path.Match
// treats like any other rune.
func slashless(s string) string { return strings.ReplaceAll(s, "/", "\uffff") }
