package gateway

import "testing"

// str ends a string at its first unescaped quote, whatever runs of
// backslashes come before it.
func TestJSONReaderStr(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"" rest`, `""`},
		{`"plain",`, `"plain"`},
		{`"a\"b"}`, `"a\"b"`},
		{`"\\"]`, `"\\"`},
		{`"\\\""}`, `"\\\""`},
		{`"x\\\\" "y"`, `"x\\\\"`},
		{`"\\\\\"\\"`, `"\\\\\"\\"`},
		{`"é\u00e9\n"x`, `"é\u00e9\n"`},
	} {
		p := jsonReader{in: []byte(tt.in)}
		if got := string(p.str()); got != tt.want {
			t.Errorf("str(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if p.pos != len(tt.want) {
			t.Errorf("str(%s) stopped at %d, want %d", tt.in, p.pos, len(tt.want))
		}
	}
}
