package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
)

// jsonFormatter writes the same lines as logrus.JSONFormatter (one JSON
// object per line, keys in sorted order, "time", "level" and "msg" beside
// the fields, a field that clashes with them renamed "fields.<key>") at a
// third of its cost. logrus copies every entry's fields into a new map and
// encodes that by reflection: about 5 us more per access-log line, one per
// delivery, which is 3 to 5 % of the gateway's CPU under load (see
// BenchmarkFormatAccessLine). Strings, numbers and booleans are written
// directly; any other value goes through encoding/json. It differs only
// where porch never goes: it reports no caller fields, nor logrus's
// "logrus_error" for a field logrus refused (a func), and it quotes a
// value encoding/json cannot encode where logrus would drop the whole line.
type jsonFormatter struct {
	timeFormat string
}

func (f *jsonFormatter) Format(e *logrus.Entry) ([]byte, error) {
	type kv struct {
		k string
		v any
	}
	var stack [24]kv
	fields := stack[:0]
	for k, v := range e.Data {
		switch k {
		case logrus.FieldKeyTime, logrus.FieldKeyMsg, logrus.FieldKeyLevel, logrus.FieldKeyLogrusError:
			k = "fields." + k
		case "fields." + logrus.FieldKeyTime, "fields." + logrus.FieldKeyMsg,
			"fields." + logrus.FieldKeyLevel, "fields." + logrus.FieldKeyLogrusError:
			if _, renamed := e.Data[k[len("fields."):]]; renamed {
				continue // logrus overwrites it with the renamed field
			}
		}
		fields = append(fields, kv{k, v})
	}
	fields = append(fields,
		kv{logrus.FieldKeyTime, e.Time.Format(f.timeFormat)},
		kv{logrus.FieldKeyMsg, e.Message},
		kv{logrus.FieldKeyLevel, e.Level.String()},
	)
	slices.SortFunc(fields, func(a, b kv) int {
		switch {
		case a.k < b.k:
			return -1
		case a.k > b.k:
			return 1
		}
		return 0
	})
	b := e.Buffer
	if b == nil {
		b = new(bytes.Buffer)
	}
	out := b.AvailableBuffer()
	out = append(out, '{')
	for i, f := range fields {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, f.k)
		out = append(out, ':')
		out = appendJSONValue(out, f.v)
	}
	out = append(out, '}', '\n')
	b.Write(out)
	return b.Bytes(), nil
}

// appendJSONValue appends v as encoding/json (with HTML escaping, as
// logrus sets it) would, except that an error is its message and a value
// encoding/json refuses is quoted with %v instead of failing the line.
func appendJSONValue(out []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendJSONString(out, v)
	case error:
		return appendJSONString(out, v.Error())
	case bool:
		return strconv.AppendBool(out, v)
	case int:
		return strconv.AppendInt(out, int64(v), 10)
	case int64:
		return strconv.AppendInt(out, v, 10)
	case int32:
		return strconv.AppendInt(out, int64(v), 10)
	case uint64:
		return strconv.AppendUint(out, v, 10)
	case uint32:
		return strconv.AppendUint(out, uint64(v), 10)
	case uint:
		return strconv.AppendUint(out, uint64(v), 10)
	case time.Duration:
		return strconv.AppendInt(out, int64(v), 10)
	case float64:
		// encoding/json switches to exponent form outside [1e-6, 1e21)
		// and refuses NaN and infinities; leave those to it.
		if a := math.Abs(v); !math.IsInf(v, 0) && !math.IsNaN(v) && (a == 0 || a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(out, v, 'f', -1, 64)
		}
	case nil:
		return append(out, "null"...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return appendJSONString(out, fmt.Sprintf("%v", v))
	}
	return append(out, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping: invalid UTF-8 becomes U+FFFD, <, > and & are \u escapes, and
// so are U+2028 and U+2029.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
