package gateway_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/porchgw/porch/gateway"
)

// TestJSStringifyVectors checks against outputs produced by Node 20
// (testdata/providers/jsjson/gen.js).
func TestJSStringifyVectors(t *testing.T) {
	raw, err := os.ReadFile("../testdata/providers/jsjson/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct{ Input, Want string }
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 1000 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for i, v := range vectors {
		got, err := gateway.JSStringify([]byte(v.Input))
		if err != nil {
			t.Errorf("vector %d: JSStringify(%q): %v", i, v.Input, err)
			continue
		}
		if string(got) != v.Want {
			t.Errorf("vector %d: JSStringify(%q)\n got %s\nwant %s", i, v.Input, got, v.Want)
		}
	}
}

func TestJSStringifyCases(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"html and line separators", `{"s":"<b>&</b>\u2028\u2029"}`, "{\"s\":\"<b>&</b>\u2028\u2029\"}"},
		{"index keys hoisted", `{"x":1,"10":2,"2":3,"01":4,"4294967295":5,"4294967294":6}`, `{"2":3,"10":2,"4294967294":6,"x":1,"01":4,"4294967295":5}`},
		{"duplicate keeps first position", `{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
		{"numbers", `[1.0,1.50,1E2,-0,1e400,9007199254740993,1e21,1e-7,0.000001]`, `[1,1.5,100,0,null,9007199254740992,1e+21,1e-7,0.000001]`},
		{"controls", `"\u0001\b\f\n\r\t\u007f\/"`, "\"\\u0001\\b\\f\\n\\r\\t\x7f/\""},
		{"whitespace", " {\n \"a\" : [ 1 , 2 ] }\n", `{"a":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gateway.JSStringify([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestJSStringifyErrors(t *testing.T) {
	tests := map[string]string{
		"empty":         "",
		"truncated":     `{"a":`,
		"open array":    `[`,
		"trailing data": `{} x`,
		"two values":    `1 2`,
		"bad literal":   `tru`,
		"single quotes": `{'a':1}`,
		"deep":          strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if got, err := gateway.JSStringify([]byte(in)); err == nil {
				t.Errorf("JSStringify = %q, want error", got)
			}
		})
	}
}

func FuzzJSStringify(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1.0,-0,1e400]`, `{"2":1,"1":2,"a":{"a":3,"a":4}}`, `"\u2028<>"`, `null`, `{"takenAt":1.7966e9,"n":[17966e5,1796600000.0]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := gateway.JSStringify(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output %q is not valid JSON", out)
		}
		again, err := gateway.JSStringify(out)
		if err != nil {
			t.Fatalf("JSStringify(own output %q): %v", out, err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n once %q\ntwice %q", out, again)
		}
	})
}

func BenchmarkJSStringify(b *testing.B) {
	body := prettyBody(b, benchBody(b, "koji"))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := gateway.JSStringify(body); err != nil {
			b.Fatal(err)
		}
	}
}
