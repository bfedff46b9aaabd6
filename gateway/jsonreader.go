package gateway

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// jsonReader walks JSON that json.Valid has accepted. It checks no
// syntax, only finds where values start and end, so it is cheap and
// allocates nothing itself; on invalid input it may panic.
type jsonReader struct {
	in  []byte
	pos int
}

func (p *jsonReader) skipSpace() {
	for p.pos < len(p.in) && isJSONSpace(p.in[p.pos]) {
		p.pos++
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// more skips whitespace and a separating comma, and reports whether
// another item follows in the array or object; when none does, it moves
// past close.
func (p *jsonReader) more(close byte) bool {
	p.skipSpace()
	if p.in[p.pos] == ',' {
		p.pos++
		p.skipSpace()
	}
	if p.in[p.pos] == close {
		p.pos++
		return false
	}
	return true
}

// key reads an object member's key and the colon after it, and returns
// the key unquoted.
func (p *jsonReader) key() []byte {
	k := unquote(p.str())
	p.skipSpace()
	p.pos++ // ':'
	return k
}

// str moves past the string at p.pos and returns it, quotes included.
// It jumps from quote to quote (bytes.IndexByte is vectorised): a quote
// ends the string unless an odd run of backslashes escapes it.
func (p *jsonReader) str() []byte {
	start := p.pos
	for p.pos++; ; p.pos++ {
		i := bytes.IndexByte(p.in[p.pos:], '"')
		if i < 0 {
			panic("jsonReader: unterminated string") // json.Valid rules this out
		}
		p.pos += i
		n := 0
		for p.in[p.pos-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			break
		}
	}
	p.pos++
	return p.in[start:p.pos]
}

// literal moves past the number, true, false or null at p.pos and
// returns it.
func (p *jsonReader) literal() []byte {
	start := p.pos
	for p.pos < len(p.in) && !endsLiteral(p.in[p.pos]) {
		p.pos++
	}
	return p.in[start:p.pos]
}

func endsLiteral(c byte) bool {
	return isJSONSpace(c) || c == ',' || c == ']' || c == '}'
}

// skip moves past the value at p.pos and returns it as written.
func (p *jsonReader) skip() []byte {
	p.skipSpace()
	start := p.pos
	switch p.in[p.pos] {
	case '"':
		return p.str()
	case '{', '[':
	default:
		return p.literal()
	}
	for depth := 0; ; {
		switch p.in[p.pos] {
		case '"':
			p.str()
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		p.pos++
		if depth == 0 {
			return p.in[start:p.pos]
		}
	}
}

// isPlain reports whether the quoted JSON string q means exactly the
// bytes between its quotes: no escapes, and valid UTF-8.
func isPlain(q []byte) bool {
	s := q[1 : len(q)-1]
	return bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s)
}

// unquote returns the text of the quoted JSON string q as encoding/json
// decodes it (escapes resolved, invalid UTF-8 replaced by U+FFFD). A plain
// string's text is a slice of q.
func unquote(q []byte) []byte {
	if isPlain(q) {
		return q[1 : len(q)-1]
	}
	return []byte(unquoteString(q))
}

// unquoteString is unquote as a string.
func unquoteString(q []byte) string {
	if isPlain(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s) // q is a valid JSON string
	return s
}

// jsonField is one object member: its unquoted key and its value as
// written.
type jsonField struct{ key, val []byte }

// jsonFields are an object's members in input order, duplicates included.
type jsonFields []jsonField

// objectFields lists the members of raw, valid JSON, when it is an object,
// and returns nil otherwise. It reads one level: values are not parsed.
func objectFields(raw []byte) jsonFields {
	p := jsonReader{in: raw}
	p.skipSpace()
	if p.pos == len(raw) || raw[p.pos] != '{' {
		return nil
	}
	p.pos++
	fs := make(jsonFields, 0, 8)
	for p.more('}') {
		k := p.key()
		fs = append(fs, jsonField{key: k, val: p.skip()})
	}
	return fs
}

// get returns the value of the last member called key (the one
// json.Unmarshal into a map keeps), or nil.
func (fs jsonFields) get(key string) []byte {
	for i := len(fs) - 1; i >= 0; i-- {
		if string(fs[i].key) == key {
			return fs[i].val
		}
	}
	return nil
}

// jsonText reads a JSON string, or null as "", as json.Unmarshal into a
// string does; ok is false for anything else, including nil.
func jsonText(raw []byte) (s string, ok bool) {
	switch {
	case len(raw) == 0:
		return "", false
	case raw[0] == '"':
		return unquoteString(raw), true
	case raw[0] == 'n':
		return "", true
	}
	return "", false
}
