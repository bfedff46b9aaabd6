package inbox

import (
	"path"
	"strings"
	"testing"
)

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
		{"gather:interview[!-/]updated", "gather:interviewXupdated", false},
		{"gather:interview[!-/]updated", "gather:interview/updated", true},
		{"gather:interview[^/]updated", "gather:interview/updated", false},
		{"gather:interview[.-0]updated", "gather:interview/updated", true},
		{"gather:a[/-9]", "gather:a5", true},
		{"koji:a/b", "koji:a\uffffb", false},
		{"koji:a\uffffb", "koji:a/b", false},
		{"*/*", "a/b/c", true},
		{"a*b*c", "a/x/b/y/c/", false},
	} {
		if got := MatchGlob(c.pattern, c.name); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// Without a '/' in play, MatchGlob agrees with path.Match on every
// pattern path.Match takes.
func FuzzMatchGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"koji:interview.*", "koji:interview.completed"}, {"*a*b?c", "xxaybzc"}, {"[^a-c]x", "dx"},
		{`\*[\]]`, "*]"}, {"[a-]", "a"}, {"[]a]", "]"}, {"*[", "x"}, {"[é-ü]?", "ñ\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		pattern, name = strings.ReplaceAll(pattern, "/", ""), strings.ReplaceAll(name, "/", "")
		want, err := path.Match(pattern, name)
		if err != nil {
			return
		}
		if got := MatchGlob(pattern, name); got != want {
			t.Errorf("MatchGlob(%q, %q) = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}
