package inbox

import "testing"

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "koji:interview.completed", true},
		{"*", "koji:a/b", true},
		{"koji:*", "koji:../../etc/passwd", true},
		{"gather:*", "gather:interview/updated", true},
		{"gather:interview/*", "gather:interview/updated", true},
		{"gather:interview?updated", "gather:interview/updated", true},
		{"gather:interview[/]updated", "gather:interview/updated", true},
		{`gather:interview\/updated`, "gather:interview/updated", true},
		{"koji:interview.*", "koji:interview.completed", true},
		{"koji:interview.*", "gather:interview.completed", false},
		{"koji:report.*", "koji:interview.completed", false},
		{"koji:a/b", "koji:a/c", false},
		{"[", "[", false}, // malformed: matches nothing
	} {
		if got := MatchGlob(c.pattern, c.name); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}
