package httpserve_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/porchgw/porch/httpserve"
)

var (
	errQuery   = fmt.Errorf("%w: invalid query", httpserve.ErrBadRequest)
	errClosed  = errors.New("store closed")
	errForbade = errors.New("forbidden")
)

// rules is a listener's table as gateway and admin write theirs.
var rules = httpserve.Rules{
	{Err: errForbade, Status: http.StatusForbidden},
	httpserve.RuleRouteNotFound,
	{Err: errQuery, Status: http.StatusBadRequest, Verbatim: true},
	httpserve.RuleBadRequest,
	{Err: errClosed, Status: http.StatusServiceUnavailable},
}

func TestRulesAnswer(t *testing.T) {
	for _, c := range []struct {
		err     error
		status  int
		message string
	}{
		{fmt.Errorf("event x: %w", errForbade), http.StatusForbidden, "forbidden"},
		{httpserve.ErrRouteNotFound, http.StatusNotFound, "not found"},
		// Verbatim shows porch's own words about the query; a plain bad
		// request shows only its sentinel, never the wrapped detail.
		{fmt.Errorf("%w: limit must be 1..100", errQuery), http.StatusBadRequest, "bad request: invalid query: limit must be 1..100"},
		{fmt.Errorf("%w: reading body: secret detail", httpserve.ErrBadRequest), http.StatusBadRequest, "bad request"},
		// 503 and 500 never say what went wrong inside.
		{fmt.Errorf("accept: %w", errClosed), http.StatusServiceUnavailable, "not stored durably in time; retry later"},
		{errors.New("disk on fire at /var/lib/porch"), http.StatusInternalServerError, "internal error"},
	} {
		status, message := rules.Answer(c.err)
		if status != c.status || message != c.message {
			t.Errorf("Answer(%q) = %d %q, want %d %q", c.err, status, message, c.status, c.message)
		}
	}
}

func TestRulesWriteCarriesRequestIDAndRetryAfter(t *testing.T) {
	h := httpserve.WithRequestID(httpserve.DiscardLogger())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules.Write(w, r, errClosed)
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Request-Id", "req-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || body["request_id"] != "req-1" {
		t.Errorf("got %d Retry-After %q body %v", rec.Code, rec.Header().Get("Retry-After"), body)
	}
}

func TestMethodNotAllowedAsksTheRouter(t *testing.T) {
	serves := map[string]bool{http.MethodGet: true, http.MethodHead: true}
	h := httpserve.MethodNotAllowed(func(r *http.Request) bool { return serves[r.Method] })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/readyz", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("got %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}
