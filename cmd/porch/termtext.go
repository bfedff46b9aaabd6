package main

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// termText is s as the CLI's tables and messages show it. Event types and
// interview ids come from signed provider data (reasons quote what a
// destination answered), and a control character in one (ESC, CR, LF, a
// tab, DEL, a C1 control, a bidi override) would be acted on by the
// terminal: recolour, erase or forge rows. Such a value is shown Go-quoted instead (strconv.Quote: "\x1b",
// "\u202e"), as is one starting with a double quote, so a shown value that
// starts with a quote is always a quoted one and any other is literal.
func termText(s string) string {
	if strings.HasPrefix(s, `"`) || !printable(s) {
		return strconv.Quote(s)
	}
	return s
}

// printable reports whether s is valid UTF-8 with only printable runes
// (strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// termJSON is the JSON text b with every rune a terminal would act on
// written as a \u escape, which any JSON decoder reads back as the same
// rune. encoding/json escapes C0 controls already but leaves DEL, C1
// controls and bidi overrides raw. Outside strings valid JSON holds only
// ASCII, so its whitespace is kept; an invalid UTF-8 byte becomes \ufffd.
func termJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case r < utf8.RuneSelf && r != 0x7f || r >= utf8.RuneSelf && strconv.IsPrint(r):
			out = append(out, b[i:i+n]...)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			out = appendU(appendU(out, hi), lo)
		default:
			out = appendU(out, r)
		}
		i += n
	}
	return out
}

// appendU appends the JSON escape \uXXXX of the UTF-16 unit r.
func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
