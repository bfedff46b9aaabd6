package forward

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// mask stands in for a hidden part of a URL.
const mask = "xxxxx"

// RedactURL is a URL as porch shows it: its user information (user name
// and password alike: either may be the token) and every part of its
// query, the values and any bare part such as "?TOKEN", replaced by
// "xxxxx". Query keys and the rest of raw are kept as written. It works on
// the text, so a URL that does not parse is hidden the same way.
func RedactURL(raw string) string {
	p := splitURL(raw)
	if p.hasUser {
		p.user = maskUser(p.user)
	}
	if p.hasQuery {
		p.query = maskQuery(p.query)
	}
	return p.String()
}

// urlParts is a URL's text cut where url.Parse cuts it: the fragment
// first, then the query, then the user information of the authority.
type urlParts struct {
	head, user, host, query, frag string
	hasUser, hasQuery, hasFrag    bool
}

func splitURL(raw string) urlParts {
	var p urlParts
	raw, p.frag, p.hasFrag = strings.Cut(raw, "#")
	raw, p.query, p.hasQuery = strings.Cut(raw, "?")
	p.head = raw
	i := strings.Index(raw, "//")
	if i < 0 {
		return p
	}
	auth := raw[i+2:]
	if j := strings.IndexByte(auth, '/'); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return p
	}
	p.head, p.user, p.host, p.hasUser = raw[:i+2], auth[:at], raw[i+2+at+1:], true
	return p
}

func (p urlParts) String() string {
	var b strings.Builder
	b.WriteString(p.head)
	if p.hasUser {
		b.WriteString(p.user + "@" + p.host)
	}
	if p.hasQuery {
		b.WriteString("?" + p.query)
	}
	if p.hasFrag {
		b.WriteString("#" + p.frag)
	}
	return b.String()
}

// maskUser hides user information, keeping only whether it has a
// password: "xxxxx" or "xxxxx:xxxxx"; an empty one stays empty.
func maskUser(user string) string {
	switch {
	case user == "":
		return ""
	case strings.Contains(user, ":"):
		return mask + ":" + mask
	}
	return mask
}

// maskQuery is raw with each value replaced by "xxxxx", keys and order
// kept. A part without "=" cannot be told from a bare token, so it is
// replaced whole.
func maskQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=" + mask
		} else if p != "" {
			parts[i] = mask
		}
	}
	return strings.Join(parts, "&")
}

// urlScrubber returns a function that hides the user information and
// query of the destination URL raw wherever they appear in a text. The
// errors of net/http and retryablehttp quote the URL they were given,
// re-encoded, with the password (not the user name) already replaced and
// sometimes inside %q, and they reach logs and attempt histories; each of
// those spellings is replaced.
func urlScrubber(raw string) func(string) string {
	p := splitURL(raw)
	var pairs [][2]string
	add := func(old, new string) {
		pairs = append(pairs, [2]string{old, new})
		if q := strconv.Quote(old); q[1:len(q)-1] != old {
			pairs = append(pairs, [2]string{q[1 : len(q)-1], new})
		}
	}
	if p.hasUser && p.user != "" {
		add(p.user+"@", maskUser(p.user)+"@")
	}
	if p.hasQuery && p.query != "" {
		add("?"+p.query, "?"+maskQuery(p.query))
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		name := url.User(u.User.Username()).String()
		hidden := maskUser(u.User.String()) + "@"
		for _, s := range []string{u.User.String(), name + ":***", name + ":" + mask, name} {
			if s != "" {
				add(s+"@", hidden)
			}
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	// At one position the first pattern given wins: the longest first, so
	// "user:***@" is not cut short by a shorter spelling.
	slices.SortStableFunc(pairs, func(a, b [2]string) int { return cmp.Compare(len(b[0]), len(a[0])) })
	var args []string
	for _, pr := range pairs {
		args = append(args, pr[0], pr[1])
	}
	return strings.NewReplacer(args...).Replace
}
