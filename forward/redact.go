package forward

import (
	"net/url"
	"strings"
)

// RedactURL is a destination URL as porch shows it: the password of its
// user information and every value of its query (a token, often) as
// "xxxxx", as url.Redacted hides the password alone.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery = maskQuery(u.RawQuery)
	return u.Redacted()
}

// maskQuery is raw with each value replaced by "xxxxx", keys and order
// kept.
func maskQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=xxxxx"
		}
	}
	return strings.Join(parts, "&")
}

// queryScrubber returns a function that hides the query values of the
// destination URL raw wherever that query appears in a text: the errors
// of net/http and retryablehttp quote the URL they were given (with the
// password already hidden), and they reach logs and attempt histories.
func queryScrubber(raw string) func(string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return func(s string) string { return s }
	}
	return strings.NewReplacer(u.RawQuery, maskQuery(u.RawQuery)).Replace
}
