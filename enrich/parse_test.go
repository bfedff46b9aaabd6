package enrich

import (
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestParseHints(t *testing.T) {
	cases := []struct {
		name string
		h    map[string]string
		code int
		want Hints
	}{
		{"none", nil, 200, Hints{Remaining: -1}},
		{"remaining and reset", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795428060"}, 200,
			Hints{Remaining: 0, Reset: time.Unix(1795428060, 0)}},
		{"429 retry-after seconds", map[string]string{"Retry-After": "30"}, 429, Hints{Remaining: -1, RetryAfter: 30 * time.Second, Limited: true}},
		{"429 retry-after date", map[string]string{"Retry-After": t0.Add(90 * time.Second).Format(http.TimeFormat)}, 429,
			Hints{Remaining: -1, RetryAfter: 90 * time.Second, Limited: true}},
		{"garbage", map[string]string{"X-RateLimit-Remaining": "-3", "X-RateLimit-Reset": "soon", "Retry-After": "later"}, 429,
			Hints{Remaining: -1, Limited: true}},
		{"retry-after capped", map[string]string{"Retry-After": "99999999"}, 429, Hints{Remaining: -1, RetryAfter: 24 * time.Hour, Limited: true}},
		{"negative retry-after", map[string]string{"Retry-After": "-5"}, 429, Hints{Remaining: -1, Limited: true}},
		{"huge reset", map[string]string{"X-RateLimit-Reset": "99999999999999999"}, 200, Hints{Remaining: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range c.h {
				h.Set(k, v)
			}
			if got := parseHints(h, c.code, t0); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseErrorBodies(t *testing.T) {
	cases := []struct {
		name string
		fn   func([]byte) apiErrorBody
		body string
		want apiErrorBody
	}{
		{"koji", parseKojiError, `{"error":"rate_limited","message":"Too many requests"}`, apiErrorBody{Code: "rate_limited", Message: "Too many requests"}},
		{"gather 429", parseGatherError, `{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Rate limit exceeded","details":{"limit":1000,"remaining":0,"resetAt":"2026-11-23T11:00:00Z"}},"meta":{"requestId":"r-1","timestamp":"2026-11-23T10:00:00Z"}}`,
			apiErrorBody{Code: "RATE_LIMIT_EXCEEDED", Message: "Rate limit exceeded", RequestID: "r-1", ResetAt: t0.Add(time.Hour)}},
		{"gather bad resetAt", parseGatherError, `{"error":{"code":"X","details":{"resetAt":"tomorrow"}},"meta":{"requestId":"r-2"}}`, apiErrorBody{Code: "X", RequestID: "r-2"}},
		{"gather html", parseGatherError, `<html>502 Bad Gateway</html>`, apiErrorBody{}},
		{"koji shape to gather", parseGatherError, `{"error":"rate_limited"}`, apiErrorBody{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.fn([]byte(c.body)); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseAnswers(t *testing.T) {
	cases := []struct {
		name           string
		fn             func([]byte) (answer, error)
		body           string
		wantErr        bool
		wantData       string
		wantProcessing bool
	}{
		{"gather complete", parseGatherOK, `{"data":{"summaryStatus":"complete","summary":"x"},"meta":{"requestId":"r"}}`, false, `{"summaryStatus":"complete","summary":"x"}`, false},
		{"gather processing", parseGatherOK, `{"data": {"summaryStatus": "processing"}, "meta": {}}`, false, `{"summaryStatus":"processing"}`, true},
		{"gather null data", parseGatherOK, `{"data":null}`, true, "", false},
		{"gather not json", parseGatherOK, `nope`, true, "", false},
		{"gather array data", parseGatherOK, `{"data":[1,2]}`, false, `[1,2]`, false},
		{"koji whole body", parseKojiOK, "{\"id\": \"iv\",\n \"analysis\": {}}\n", false, `{"id":"iv","analysis":{}}`, false},
		{"koji not json", parseKojiOK, `<html>`, true, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.fn([]byte(c.body))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (string(a.Data) != c.wantData || a.Processing != c.wantProcessing) {
				t.Fatalf("got data %s processing %v", a.Data, a.Processing)
			}
		})
	}
}

func TestParseListPage(t *testing.T) {
	lp, err := parseListPage([]byte(`{"data":[{"id":"a","takenAt":"2026-11-23T10:00:00Z"}],"meta":{"requestId":"r","pagination":{"page":2,"limit":100,"total":150,"totalPages":2}}}`))
	if err != nil || len(lp.Data) != 1 || lp.Data[0].TakenAt != "2026-11-23T10:00:00Z" || lp.Meta.Pagination.TotalPages != 2 {
		t.Fatalf("got %+v, %v", lp, err)
	}
	if _, err := parseListPage([]byte(`{"data":{}}`)); err == nil {
		t.Fatal("object data accepted as a list")
	}
}

func FuzzParseHints(f *testing.F) {
	f.Add("0", "1795428060", "30", 429)
	f.Add("", "", "Wed, 21 Oct 2015 07:28:00 GMT", 429)
	f.Add("abc", "-1", "-1", 200)
	f.Fuzz(func(t *testing.T, rem, reset, ra string, code int) {
		h := http.Header{}
		h.Set("X-RateLimit-Remaining", rem)
		h.Set("X-RateLimit-Reset", reset)
		h.Set("Retry-After", ra)
		got := parseHints(h, code, t0)
		if got.Remaining < -1 || got.RetryAfter < 0 || got.RetryAfter > 24*time.Hour {
			t.Fatalf("out of range: %+v", got)
		}
	})
}

func FuzzParseAPIBodies(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"RATE_LIMIT_EXCEEDED","details":{"resetAt":"2026-11-23T11:00:00Z"}},"meta":{"requestId":"r"}}`))
	f.Add([]byte(`{"error":"rate_limited","message":"slow down"}`))
	f.Add([]byte(`{"data":{"summaryStatus":"processing"},"meta":{"pagination":{"totalPages":3}}}`))
	f.Add([]byte(`{"data":[{"id":"a","takenAt":"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseKojiError(b)
		parseGatherError(b)
		if a, err := parseGatherOK(b); err == nil && len(a.Data) == 0 {
			t.Fatal("ok answer without data")
		}
		if a, err := parseKojiOK(b); err == nil && len(a.Data) == 0 {
			t.Fatal("ok answer without data")
		}
		_, _ = parseListPage(b)
	})
}
