package forward

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// errCannotBuild marks an event porch cannot turn into a request. It is a
// permanent failure of that event alone: nothing reaches the destination,
// so its circuit learns nothing from it.
var errCannotBuild = errors.New("cannot build the request")

// maxDataHeader caps a header value taken from event data: a longer one
// is left out rather than risk the destination's header size limit.
const maxDataHeader = 1024

// hopHeaders are the headers that describe one connection or the
// transfer of one message; porch never copies them into a forwarded
// request.
var hopHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Connection": true, "Proxy-Connection": true,
	"Transfer-Encoding": true, "Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Expect": true,
}

// dataHeaderValue reports whether v, taken from an event's data, arrives
// byte for byte when sent as a header value: 1 to maxDataHeader bytes of
// printable ASCII, with spaces only inside (receivers trim the ends, and
// decode other bytes in different charsets).
func dataHeaderValue(v string) bool {
	if v == "" || len(v) > maxDataHeader || v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// validHeaderName reports whether k is an RFC 9110 token, as net/http
// requires of every header name it sends.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether net/http sends v as a header value: no
// control bytes other than horizontal tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHeader reports whether net/http sends header k with values vs.
func validHeader(k string, vs []string) bool {
	if !validHeaderName(k) {
		return false
	}
	for _, v := range vs {
		if !validHeaderValue(v) {
			return false
		}
	}
	return true
}

// checkRequest returns an errCannotBuild error when net/http would refuse
// to send h, or when id would not arrive unchanged as webhook-id (the
// signature covers it, so it cannot be left out). Errors name the header,
// never its value.
func checkRequest(id string, h http.Header) error {
	if !dataHeaderValue(id) {
		return fmt.Errorf("%w: the event id cannot be sent unchanged as %s", errCannotBuild, http.CanonicalHeaderKey(HeaderID))
	}
	for k, vs := range h {
		switch {
		case !validHeaderName(k):
			return fmt.Errorf("%w: a header name is not a token", errCannotBuild)
		case hopHeaders[k]:
			return fmt.Errorf("%w: %s is a connection header", errCannotBuild, k)
		case !validHeader(k, vs):
			return fmt.Errorf("%w: %s is not a valid header value", errCannotBuild, k)
		}
	}
	return nil
}

// omittedName is how a left-out header is named in logs: its name, or a
// placeholder when the name itself is not a token.
func omittedName(k string) string {
	if validHeaderName(k) && len(k) <= 64 {
		return k
	}
	return "(invalid name)"
}
