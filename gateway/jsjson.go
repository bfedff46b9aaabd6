package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// maxJSDepth bounds nesting in JSStringify so hostile input cannot exhaust
// the stack.
const maxJSDepth = 1000

var errTooDeep = errors.New("nesting too deep")

// jsMember is one object member in input order.
type jsMember struct {
	key string
	val any
}

// jsObject is an object whose members keep their first position.
type jsObject []jsMember

// JSStringify returns exactly what Node's JSON.stringify(JSON.parse(raw))
// would return: members in input order with array-index keys hoisted in
// numeric order, duplicate keys resolved to the last value at the first
// position, JavaScript number formatting and no HTML escaping. It fails on
// invalid JSON, trailing data and nesting deeper than 1000 levels.
//
// Lone surrogates in strings cannot be preserved (Go's decoder replaces
// them with U+FFFD), so such input yields a different string than Node.
func JSStringify(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := jsDecode(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("js stringify: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("js stringify: trailing data")
	}
	return jsAppend(make([]byte, 0, len(raw)), v), nil
}

func jsDecode(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxJSDepth {
		return nil, errTooDeep
	}
	if d == '[' {
		return jsDecodeArray(dec, depth+1)
	}
	return jsDecodeObject(dec, depth+1)
}

func jsDecodeArray(dec *json.Decoder, depth int) (any, error) {
	arr := []any{}
	for dec.More() {
		v, err := jsDecode(dec, depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, unexpectedEOF(err)
	}
	return arr, nil
}

func jsDecodeObject(dec *json.Decoder, depth int) (any, error) {
	obj := jsObject{}
	pos := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		v, err := jsDecode(dec, depth)
		if err != nil {
			return nil, err
		}
		if i, dup := pos[key]; dup {
			obj[i].val = v
			continue
		}
		pos[key] = len(obj)
		obj = append(obj, jsMember{key, v})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, unexpectedEOF(err)
	}
	return hoistIndexKeys(obj), nil
}

// unexpectedEOF reports input that ends inside a value as such, not as a
// clean end of stream.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// hoistIndexKeys moves array-index keys to the front in ascending numeric
// order, as JavaScript property enumeration does.
func hoistIndexKeys(obj jsObject) jsObject {
	var idx, rest jsObject
	for _, m := range obj {
		if _, ok := arrayIndex(m.key); ok {
			idx = append(idx, m)
		} else {
			rest = append(rest, m)
		}
	}
	if len(idx) == 0 {
		return obj
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, _ := arrayIndex(idx[i].key)
		b, _ := arrayIndex(idx[j].key)
		return a < b
	})
	return append(idx, rest...)
}

// arrayIndex reports whether k is a canonical array index (0..2^32-2).
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n > math.MaxUint32-1 {
		return 0, false
	}
	return n, true
}

func jsAppend(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		return appendJSNumber(b, string(v))
	case string:
		return appendJSString(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsAppend(b, e)
		}
		return append(b, ']')
	case jsObject:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, m.key)
			b = append(b, ':')
			b = jsAppend(b, m.val)
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("jsAppend: unexpected %T", v))
}

// appendJSNumber formats a JSON number the way JavaScript's Number
// toString does.
func appendJSNumber(b []byte, s string) []byte {
	f, _ := strconv.ParseFloat(s, 64) // ErrRange yields ±Inf or 0, both handled
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
func appendJSString(b []byte, s string) []byte {
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
