package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
)

// CSRF. A browser that has logged in with Basic auth sends the
// credentials on every request to the listener, including a form another
// site makes it post. So every state-changing request authenticated by
// Basic auth must carry a token only our own pages know (an HMAC of the
// caller's token fingerprint under a key born with the process), and must
// come from our own origin. Bearer requests are not sent by browsers on
// their own, so they need neither.

// csrfField is the form field (and csrfHeader the header) carrying the token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// csrfKeys derives per-session CSRF tokens.
type csrfKeys struct{ key [32]byte }

func newCSRFKeys() *csrfKeys {
	k := &csrfKeys{}
	_, _ = rand.Read(k.key[:])
	return k
}

// token is the CSRF token of the session authenticated by the token with
// fingerprint fp.
func (k *csrfKeys) token(fp string) string {
	m := hmac.New(sha256.New, k.key[:])
	m.Write([]byte("porch-csrf:" + fp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid compares presented with the session's token in constant time.
func (k *csrfKeys) valid(fp, presented string) bool {
	return fp != "" && hmac.Equal([]byte(presented), []byte(k.token(fp)))
}

// csrfGuard refuses state-changing requests that a browser could have
// been tricked into sending: Basic-authenticated and without our token or
// from another origin.
func csrfGuard(k *csrfKeys) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if safeMethod(r.Method) || roleOf(r) == RoleNone || bearer(r) {
				next.ServeHTTP(w, r)
				return
			}
			presented := r.Header.Get(csrfHeader)
			if presented == "" {
				presented = r.PostFormValue(csrfField)
			}
			if !sameOrigin(r) || !k.valid(tokenOf(r), presented) {
				writeError(w, r, ErrCSRF)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func bearer(r *http.Request) bool {
	_, ok := bearerToken(r)
	return ok
}

// sameOrigin requires the Origin header, or failing that the Referer, to
// name this host. A request carrying neither is refused: browsers send
// Origin on every POST.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	u, err := url.Parse(src)
	if src == "" || err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host
}

// securityHeaders sets the headers every admin response carries: no
// framing, no sniffing, no inline script or style, no referrer across
// origins. Handlers may tighten them (the raw view sandboxes itself).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
