package inbox

import "unicode/utf8"

// MatchGlob reports whether name matches pattern, in path.Match syntax
// except that '/' is a character like any other: "source:event" keys
// and event types are names, not paths, so "*" and "koji:*" match
// "koji:a/b" as well. '*' matches any run of characters, '?' any one,
// "[...]" a class ("[^...]" negated, "a-z" ranges) and '\'
// quotes the next character. A malformed pattern matches nothing; config
// checks reject it first (path.Match with an empty name reports it).
func MatchGlob(pattern, name string) bool {
	// Backtracking over the last '*' only: a later '*' can take over
	// whatever an earlier one would have matched.
	px, nx := 0, 0
	starPx, starNx := -1, 0
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch pattern[px] {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					_, w := utf8.DecodeRuneInString(name[nx:])
					px, nx = px+1, nx+w
					continue
				}
			case '[':
				if nx < len(name) {
					r, w := utf8.DecodeRuneInString(name[nx:])
					ok, n, valid := matchClass(pattern[px+1:], r)
					if !valid {
						return false
					}
					if ok {
						px, nx = px+1+n, nx+w
						continue
					}
				}
			default:
				// Byte by byte, as path.Match compares literals.
				c, pw := pattern[px], 1
				if c == '\\' {
					if px+1 == len(pattern) {
						return false // a trailing '\'
					}
					c, pw = pattern[px+1], 2
				}
				if nx < len(name) && name[nx] == c {
					px, nx = px+pw, nx+1
					continue
				}
			}
		}
		if starPx < 0 || starNx >= len(name) {
			return false
		}
		// A byte at a time, as path.Match does: a literal byte of
		// invalid UTF-8 in a pattern may match inside a character.
		starNx++
		px, nx = starPx+1, starNx
	}
	return true
}

// literal is the character at the start of p, unquoted, and the bytes it
// takes; 0 bytes for a lone '\' at the end.
func literal(p string) (rune, int) {
	if p[0] == '\\' {
		if len(p) == 1 {
			return 0, 0
		}
		r, w := utf8.DecodeRuneInString(p[1:])
		return r, 1 + w
	}
	r, w := utf8.DecodeRuneInString(p)
	return r, w
}

// matchClass matches r against the class that p begins with, just past
// its '['. It returns whether r is in it, the bytes of p the class takes
// with its ']', and false for valid when the class is malformed.
func matchClass(p string, r rune) (match bool, n int, valid bool) {
	negated := len(p) > 0 && p[0] == '^'
	if negated {
		n++
	}
	for first := true; ; first = false {
		if n < len(p) && p[n] == ']' && !first {
			return match != negated, n + 1, true
		}
		lo, w := classChar(p[n:])
		if w == 0 {
			return false, 0, false
		}
		n += w
		hi := lo
		if n < len(p) && p[n] == '-' {
			if hi, w = classChar(p[n+1:]); w == 0 {
				return false, 0, false
			}
			n += 1 + w
		}
		if lo <= r && r <= hi {
			match = true
		}
	}
}

// classChar is literal for one end of a range in a class: 0 bytes when
// p is empty, starts with '-' or ']', or is not UTF-8, as path.Match
// refuses those.
func classChar(p string) (rune, int) {
	if len(p) == 0 || p[0] == '-' || p[0] == ']' {
		return 0, 0
	}
	r, w := literal(p)
	quoted := 0
	if p[0] == '\\' {
		quoted = 1
	}
	if w == 0 || r == utf8.RuneError && w-quoted == 1 {
		return 0, 0
	}
	return r, w
}
