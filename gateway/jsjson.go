package gateway

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxJSDepth bounds nesting in JSStringify so hostile input cannot exhaust
// the stack.
const maxJSDepth = 1000

var errTooDeep = errors.New("nesting too deep")

// jsValue is a parsed JSON value. Strings, numbers and literals keep their
// bytes from the input; arrays and objects keep their items.
type jsValue struct {
	kind  byte       // the first byte: '{', '[', '"', 't', 'f', 'n', or a number's
	raw   []byte     // a string (quoted), number or literal as written
	items []jsMember // an array's elements (no keys) or an object's members
}

// jsMember is one object member or array element.
type jsMember struct {
	key []byte // unquoted; nil in arrays
	val jsValue
}

// JSStringify returns exactly what Node's JSON.stringify(JSON.parse(raw))
// would return: members in input order with array-index keys hoisted in
// numeric order, duplicate keys resolved to the last value at the first
// position, JavaScript number formatting and no HTML escaping. It fails on
// invalid JSON, trailing data and nesting deeper than 1000 levels.
//
// Lone surrogates in strings cannot be preserved (Go's decoder replaces
// them with U+FFFD), so such input yields a different string than Node.
func JSStringify(raw []byte) ([]byte, error) {
	if !json.Valid(raw) {
		// The same check again, for encoding/json's description of the fault.
		return nil, fmt.Errorf("js stringify: %w", json.Unmarshal(raw, new(json.RawMessage)))
	}
	return stringifyValid(raw)
}

// stringifyValid is JSStringify for input json.Valid has accepted.
func stringifyValid(raw []byte) ([]byte, error) {
	// Sixteen items on the stack at once cover a typical provider body.
	p := jsParser{jsonReader: jsonReader{in: raw}, stack: make([]jsMember, 0, 16)}
	v, err := p.parse(0)
	if err != nil {
		return nil, fmt.Errorf("js stringify: %w", err)
	}
	return v.appendJS(make([]byte, 0, len(raw))), nil
}

// jsParser builds a jsValue tree. Items gather on one stack, and each
// array or object keeps an exactly sized copy of its own, so a parse
// allocates about once per container.
type jsParser struct {
	jsonReader
	stack []jsMember
}

// parse reads the value at p.pos; depth counts the arrays and objects
// around it.
func (p *jsParser) parse(depth int) (jsValue, error) {
	p.skipSpace()
	v := jsValue{kind: p.in[p.pos]}
	var err error
	switch v.kind {
	case '[', '{':
		if depth >= maxJSDepth {
			return v, errTooDeep
		}
		v.items, err = p.parseItems(v.kind, depth+1)
	case '"':
		v.raw = p.str()
	default:
		v.raw = p.literal()
	}
	return v, err
}

// parseItems reads the array or object at p.pos.
func (p *jsParser) parseItems(kind byte, depth int) ([]jsMember, error) {
	closer := byte(']')
	if kind == '{' {
		closer = '}'
	}
	p.pos++
	base := len(p.stack)
	for p.more(closer) {
		var m jsMember
		if kind == '{' {
			m.key = p.key()
		}
		var err error
		if m.val, err = p.parse(depth); err != nil {
			return nil, err
		}
		p.stack = append(p.stack, m)
	}
	items := p.stack[base:]
	if kind == '{' {
		items = hoistIndexKeys(dedupeKeys(items))
	}
	items = slices.Clone(items)
	p.stack = p.stack[:base]
	return items, nil
}

// smallObject is the member count up to which dedupeKeys compares keys
// pairwise (at most about 2000 short comparisons) instead of indexing
// them in a map (an allocation per key).
const smallObject = 64

// dedupeKeys keeps one member per key, at the key's first position with
// its last value, as JSON.parse does. It reuses obj's array.
func dedupeKeys(obj []jsMember) []jsMember {
	var pos map[string]int
	if len(obj) > smallObject {
		pos = make(map[string]int, len(obj))
	}
	out := obj[:0]
	for _, m := range obj {
		if i := findKey(out, pos, m.key); i >= 0 {
			out[i].val = m.val
			continue
		}
		if pos != nil {
			pos[string(m.key)] = len(out)
		}
		out = append(out, m)
	}
	return out
}

// findKey is the index of key in obj (through pos when there is one), or -1.
func findKey(obj []jsMember, pos map[string]int, key []byte) int {
	if pos != nil {
		if i, ok := pos[string(key)]; ok {
			return i
		}
		return -1
	}
	for i := range obj {
		if string(obj[i].key) == string(key) {
			return i
		}
	}
	return -1
}

// hoistIndexKeys moves array-index keys to the front in ascending numeric
// order, as JavaScript property enumeration does.
func hoistIndexKeys(obj []jsMember) []jsMember {
	isIndex := func(m jsMember) bool { _, ok := arrayIndex(m.key); return ok }
	if !slices.ContainsFunc(obj, isIndex) {
		return obj
	}
	out := make([]jsMember, 0, len(obj))
	for _, m := range obj {
		if isIndex(m) {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b jsMember) int {
		i, _ := arrayIndex(a.key)
		j, _ := arrayIndex(b.key)
		return cmp.Compare(i, j)
	})
	for _, m := range obj {
		if !isIndex(m) {
			out = append(out, m)
		}
	}
	return out
}

// arrayIndex reports whether k is a canonical array index (0..2^32-2).
func arrayIndex(k []byte) (uint64, bool) {
	if len(k) == 0 || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	var n uint64
	for _, c := range k {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= math.MaxUint32-1
}

// appendJS appends v as JSON.stringify writes it.
func (v *jsValue) appendJS(b []byte) []byte {
	switch v.kind {
	case '{', '[':
		return v.appendItems(b)
	case '"':
		if isPlain(v.raw) { // JSON.stringify would write the same bytes
			return append(b, v.raw...)
		}
		return appendJSString(b, unquote(v.raw))
	case 't', 'f', 'n':
		return append(b, v.raw...)
	}
	return appendJSNumber(b, v.raw)
}

func (v *jsValue) appendItems(b []byte) []byte {
	closer := byte(']')
	if v.kind == '{' {
		closer = '}'
	}
	b = append(b, v.kind)
	for i := range v.items {
		if i > 0 {
			b = append(b, ',')
		}
		if v.kind == '{' {
			b = appendJSString(b, v.items[i].key)
			b = append(b, ':')
		}
		b = v.items[i].val.appendJS(b)
	}
	return append(b, closer)
}

// appendJSNumber formats a JSON number the way JavaScript's Number
// toString does.
func appendJSNumber(b []byte, s []byte) []byte {
	f, _ := strconv.ParseFloat(string(s), 64) // ErrRange yields ±Inf or 0, both handled
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return append(b, "null"...)
	case f == 0:
		return append(b, '0')
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.IndexByte(e, 'e')
	mant, sign, exp := e[:i], e[i+1], strings.TrimLeft(e[i+2:], "0")
	return append(append(append(append(b, mant...), 'e'), sign), exp...)
}

// appendJSString quotes s with JSON.stringify's escaping rules.
func appendJSString(b []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c >= 0x20:
			b = append(b, c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	return append(b, '"')
}
