package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

func TestParseQueryTable(t *testing.T) {
	cases := []struct {
		raw     string
		ok      bool
		check   func(inbox.Query) bool
		comment string
	}{
		{"", true, func(q inbox.Query) bool { return q == inbox.Query{} }, "empty"},
		{"source=koji&event=a.b&interview_id=%20i-1%20", true, func(q inbox.Query) bool {
			return q.Source == "koji" && q.Type == "a.b" && q.InterviewID == "i-1"
		}, "trimmed"},
		{"since=2026-11-23", true, func(q inbox.Query) bool { return q.Since.Day() == 23 && q.Since.Location().String() == "UTC" }, "date"},
		{"until=2026-11-23T09:30", true, func(q inbox.Query) bool { return q.Until.Minute() == 30 }, "datetime-local"},
		{"since=2026-11-23T09:30:00%2B02:00", true, func(q inbox.Query) bool { return q.Since.UTC().Hour() == 7 }, "zone"},
		{"limit=1000", true, func(q inbox.Query) bool { return q.Limit == 1000 }, "max limit"},
		{"cursor=01ARZ3NDEKTSV4RRFFQ69G5FAV", true, func(q inbox.Query) bool { return q.Cursor != "" }, "cursor"},
		{"limit=1001", false, nil, "limit too big"},
		{"limit=-1", false, nil, "negative"},
		{"since=11/23/2026", false, nil, "US date"},
		{"status=deleted", false, nil, "status"},
		{"cursor=../../etc", false, nil, "cursor"},
		{"duplicate_of=01arz3ndektsv4rrffq69g5fav", true, func(q inbox.Query) bool { return q.DuplicateOf == "01ARZ3NDEKTSV4RRFFQ69G5FAV" }, "copies of an event, any case"},
		{"duplicate_of=01ARZ3NDEK", false, nil, "copies of part of an id"},
		{"duplicate_of=01ARZ3NDEKTSV4RRFFQ69G5FAU%25", false, nil, "copies of a non-id"},
		{"cursor=01arz3ndektsv4rrffq69g5fav", true, func(q inbox.Query) bool { return q.Cursor == "01ARZ3NDEKTSV4RRFFQ69G5FAV" }, "lower-case cursor"},
		{"until=0001-01-01", true, func(q inbox.Query) bool { return !q.Until.IsZero() && !q.Until.After(time.Unix(0, 0)) }, "until the zero time bounds"},
		{"since=0001-01-01T00:00:00Z", true, func(q inbox.Query) bool { return !q.Since.After(time.Unix(0, 0)) }, "since the zero time"},
		{"since=" + strings.Repeat("9", 100000), false, nil, "huge bad time"},
		{"to=0001-01-01", true, func(q inbox.Query) bool {
			return !q.Until.IsZero() && !q.Until.After(time.Unix(0, 0).Add(24*time.Hour))
		}, "to the zero day bounds"},
		{"to=0000-12-31", true, func(q inbox.Query) bool {
			return !q.Until.IsZero() && !q.Until.After(time.Unix(0, 0).Add(24*time.Hour))
		}, "to the day before the zero day"},
		{"from=0001-01-01", true, func(q inbox.Query) bool { return !q.Since.After(time.Unix(0, 0)) }, "from the zero day"},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.raw)
		q, err := parseQuery(v)
		if (err == nil) != c.ok || (c.ok && !c.check(q)) {
			t.Errorf("%s (%q): %+v, %v", c.comment, c.raw, q, err)
		}
		if err != nil && answers.Status(err) != http.StatusBadRequest {
			t.Errorf("%s: status %d", c.comment, answers.Status(err))
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%s: error of %d bytes echoes the value", c.comment, len(err.Error()))
		}
	}
}

// FuzzParseQuery: any query string is either a valid search or a 400,
// never a panic or another status.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "source=koji&limit=5", "since=2026-01-02&until=2026-01-01", "cursor=zz", "limit=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseQuery(v)
		if err != nil {
			if answers.Status(err) != http.StatusBadRequest {
				t.Fatalf("%q: %v maps to %d", raw, err, answers.Status(err))
			}
			return
		}
		if q.Limit < 0 || q.Limit > inbox.MaxListLimit {
			t.Fatalf("%q: limit %d", raw, q.Limit)
		}
		if (strings.TrimSpace(v.Get("until")) != "" && q.Until.IsZero()) || (strings.TrimSpace(v.Get("since")) != "" && q.Since.IsZero()) ||
			(strings.TrimSpace(v.Get("to")) != "" && q.Until.IsZero()) {
			t.Fatalf("%q: a given bound reads as none: %+v", raw, q)
		}
		if q.Cursor != strings.ToUpper(q.Cursor) {
			t.Fatalf("%q: cursor %q not in the stored (upper) case", raw, q.Cursor)
		}
	})
}

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		origin, referer string
		want            bool
	}{
		{"http://127.0.0.1:8081", "", true},
		{"", "http://127.0.0.1:8081/ui/events/x", true},
		{"null", "http://127.0.0.1:8081/", true},
		{"http://127.0.0.1:9999", "", false},
		{"https://evil.example", "http://127.0.0.1:8081/", false},
		{"", "", false},
		{"null", "", false},
		{"javascript://127.0.0.1:8081", "", false},
		{"http://127.0.0.1:8081.evil.example", "", false},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8081/ui/x", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.referer != "" {
			r.Header.Set("Referer", c.referer)
		}
		if got := sameOrigin(r); got != c.want {
			t.Errorf("origin %q referer %q: %v", c.origin, c.referer, got)
		}
	}
}

// Whatever a caller pads a filter with, the trail records every filter
// the search applied.
func TestDescribeKeepsEveryFilter(t *testing.T) {
	for _, raw := range []string{
		"event=" + strings.Repeat("+", 4100) + "&interview_id=SECRET",
		"cursor=01ARZ3NDEKTSV4RRFFQ69G5FAV" + strings.Repeat("%20", 4100) + "&interview_id=SECRET",
		"event=" + strings.Repeat("%C3%A9", 3000) + "&id=01AR&interview_id=SECRET&interview_prefix=" + strings.Repeat("%FF", 3000) + "&source=" + strings.Repeat("x", 3000),
	} {
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseQuery(v); err != nil {
			t.Fatalf("%.40s: %v", raw, err)
		}
		got := inbox.BoundAccess(inbox.Access{Query: describe(v)}).Query
		if !strings.Contains(got, "interview_id=SECRET") || strings.HasSuffix(got, "…") {
			t.Errorf("%.40s…: the trail records %q", raw, got)
		}
	}
}
