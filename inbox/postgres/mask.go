package postgres

import (
	"net/url"
	"regexp"
	"strings"
)

// passwordKV matches a password in a key=value connection string, quoted
// or not.
var passwordKV = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// userinfoPW matches the password of a URL's userinfo, for URLs that
// net/url cannot parse.
var userinfoPW = regexp.MustCompile(`(://[^:/@]*:)[^@]*@`)

// MaskURL returns a connection string fit for logs and error messages:
// the password, in URL userinfo, a password query parameter or a
// key=value pair, is replaced by "xxxxx".
func MaskURL(s string) string {
	if u, err := url.Parse(s); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") {
				q[k] = []string{"xxxxx"}
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	s = userinfoPW.ReplaceAllString(s, "${1}xxxxx@")
	return passwordKV.ReplaceAllString(s, "${1}xxxxx")
}

// maskedError is an error whose message has the connection string's
// password replaced, for driver errors that may echo it. Unwrap still
// gives the driver's error, so callers can branch on it.
type maskedError struct {
	err error
	msg string
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// maskErr wraps err so that its message never shows the password of raw.
func maskErr(err error, raw string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if pw := password(raw); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return &maskedError{err: err, msg: msg}
}

// password returns the password carried by a connection string, "" if none.
func password(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			return pw
		}
		if pw := u.Query().Get("password"); pw != "" {
			return pw
		}
	}
	if m := userinfoPW.FindStringSubmatch(raw); m != nil {
		return strings.TrimSuffix(strings.TrimPrefix(m[0], m[1]), "@")
	}
	if m := passwordKV.FindStringSubmatch(raw); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}
