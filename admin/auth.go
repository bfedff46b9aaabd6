package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/porchgw/porch/httpserve"
)

// Role is what an admin-listener token may do.
type Role int

// Roles, in increasing power: each may do what the ones before it may.
const (
	RoleNone    Role = iota
	RoleAuditor      // read the archive
	RoleAdmin        // read, and act: replay, reload
)

func (r Role) String() string {
	switch r {
	case RoleAuditor:
		return "auditor"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

type ctxKey int

const (
	ctxRole  ctxKey = iota // the caller's Role, from authenticate
	ctxToken               // the caller's token fingerprint
)

// tokens holds SHA-256 digests of the configured tokens, so comparisons
// take the same time whatever the presented token's length.
type tokens struct {
	admin, auditor [][32]byte
}

func newTokens(admin, auditor []string) *tokens {
	t := &tokens{}
	for _, s := range admin {
		t.admin = append(t.admin, sha256.Sum256([]byte(s)))
	}
	for _, s := range auditor {
		t.auditor = append(t.auditor, sha256.Sum256([]byte(s)))
	}
	return t
}

// role compares presented against every token, without stopping early.
func (t *tokens) role(presented string) Role {
	d := sha256.Sum256([]byte(presented))
	var isAdmin, isAuditor int
	for _, a := range t.admin {
		isAdmin |= subtle.ConstantTimeCompare(d[:], a[:])
	}
	for _, a := range t.auditor {
		isAuditor |= subtle.ConstantTimeCompare(d[:], a[:])
	}
	switch {
	case presented == "":
		return RoleNone
	case isAdmin == 1:
		return RoleAdmin
	case isAuditor == 1:
		return RoleAuditor
	}
	return RoleNone
}

// TokenFingerprint is a short, stable name for a token that reveals
// nothing usable: the first 12 hex digits of its SHA-256. The access trail
// and logs name tokens by it.
func TokenFingerprint(token string) string {
	d := sha256.Sum256([]byte(token))
	return hex.EncodeToString(d[:6])
}

// presentedToken reads a Bearer token, or HTTP Basic with the token as the
// password (browsers); the Basic user name is ignored.
func presentedToken(r *http.Request) string {
	if tok, ok := bearerToken(r); ok {
		return tok
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return ""
}

// bearerToken is the token of an Authorization: Bearer header. The
// scheme name is case-insensitive (RFC 9110, section 11.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// authenticate resolves the caller's role once per request.
func authenticate(t *atomic.Pointer[tokens]) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok := presentedToken(r)
			role := t.Load().role(tok)
			ctx := context.WithValue(r.Context(), ctxRole, role)
			if role != RoleNone {
				ctx = httpserve.WithLogger(ctx, httpserve.LoggerFrom(r).WithField("token", TokenFingerprint(tok)))
				ctx = context.WithValue(ctx, ctxToken, TokenFingerprint(tok))
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// require lets the request through only with at least role min.
func require(min Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch got := roleOf(r); {
		case got == RoleNone:
			writeError(w, r, ErrUnauthenticated)
		case got < min:
			writeError(w, r, ErrForbidden)
		default:
			h(w, r)
		}
	})
}

func roleOf(r *http.Request) Role {
	role, _ := r.Context().Value(ctxRole).(Role)
	return role
}

// tokenOf is the caller's token fingerprint, "" when unauthenticated.
func tokenOf(r *http.Request) string {
	fp, _ := r.Context().Value(ctxToken).(string)
	return fp
}
