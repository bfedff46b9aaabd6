package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

// exported reads an NDJSON export: the event ids, in order.
func exported(t *testing.T, body string) []string {
	t.Helper()
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	ended := false
	for sc.Scan() {
		if ended {
			t.Fatalf("a line after the end line: %q", sc.Text())
		}
		if strings.HasPrefix(sc.Text(), `{"export_end":{"records":`+fmt.Sprint(len(ids))+`,`) || sc.Text() == `{"export_end":{"records":0}}` {
			ended = true
			continue
		}
		var rec struct {
			ID   string `json:"id"`
			Body []byte `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if len(rec.Body) == 0 {
			t.Errorf("export record %s has no body", rec.ID)
		}
		ids = append(ids, rec.ID)
	}
	if !ended {
		t.Errorf("export of %d records has no end line naming them", len(ids))
	}
	return ids
}

// day is the UTC date of event id's archive time, as a date input sends it.
func day(id string, offset int) string {
	return inbox.IDTime(id).AddDate(0, 0, offset).Format("2006-01-02")
}

// The page's Export button submits the search form to /ui/export: with
// the browser's Basic auth it downloads, as an attachment, exactly the
// events the search shows (oldest first), and the trail records an
// export with its filters.
func TestPageExportHasTheSearchFilters(t *testing.T) {
	env := startAdmin(t)
	_, page := env.get(t, "/", basicAuth(auditorToken))
	if !regexp.MustCompile(`<button type="submit" class="button" formaction="/ui/export"[^>]*>Export</button>`).MatchString(page) {
		t.Fatalf("search page has no Export button submitting the form to /ui/export")
	}
	for _, in := range []string{`type="date" name="from"`, `type="date" name="to"`} {
		if !strings.Contains(page, in) {
			t.Errorf("search form lacks %s", in)
		}
	}
	first, last := env.ids[0], env.ids[len(env.ids)-1]
	v := url.Values{"interview_prefix": {"INT-"}, "source": {"koji"}, "event": {"interview.analysis_ready"},
		"status": {"accepted"}, "id": {""}, "from": {day(first, 0)}, "to": {day(last, 0)}}
	want := []string{env.ids[1], env.ids[3], env.ids[7]}

	resp, body := env.get(t, "/ui/export?"+v.Encode(), basicAuth(auditorToken))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	if got := exported(t, body); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("export = %v, want %v", got, want)
	}
	_, page = env.get(t, "/?"+v.Encode(), basicAuth(auditorToken))
	if n := strings.Count(page, `class="cell event-link"`); n != len(want) {
		t.Errorf("search shows %d events, the export has %d", n, len(want))
	}
	// The API takes the same filters.
	if _, body := env.get(t, "/api/v1/export?"+v.Encode(), bearerAuth(auditorToken)); fmt.Sprint(exported(t, body)) != fmt.Sprint(want) {
		t.Errorf("API export = %v, want %v", exported(t, body), want)
	}
	// The date range counts: "to" includes its day, "from" starts one.
	v.Set("to", day(first, -1))
	v.Set("from", day(first, -1))
	if _, body := env.get(t, "/ui/export?"+v.Encode(), basicAuth(auditorToken)); len(exported(t, body)) != 0 {
		t.Errorf("export of the day before has %v", exported(t, body))
	}

	trail, err := env.db.AccessTrail(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var exports []inbox.Access
	for _, a := range trail {
		if a.Action == "export" {
			exports = append(exports, a)
		}
	}
	if len(exports) != 3 || !strings.Contains(exports[len(exports)-1].Query, "interview_prefix=INT-") ||
		!strings.Contains(exports[len(exports)-1].Query, "from="+day(first, 0)) {
		t.Errorf("trail exports = %+v", exports)
	}

	// Without credentials the browser is asked for them; a bad date is
	// explained on a page, not exported.
	resp, _ = env.get(t, "/ui/export")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("export without a token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, page = env.get(t, "/ui/export?to=tomorrow", basicAuth(auditorToken))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "is not a date") || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("export with a bad date: %d %q", resp.StatusCode, page)
	}
}

// The interview field finds interviews by the start of their id in any
// case; event ids are found in any case too, in a search and by URL.
func TestPageSearchPrefixAnyCase(t *testing.T) {
	env := startAdmin(t)
	ids := func(page string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`class="cell event-link" href="/ui/events/([0-9A-Z]+)"`).FindAllStringSubmatch(page, -1) {
			out = append(out, m[1])
		}
		return out
	}
	_, page := env.get(t, "/?interview_prefix=INT-1", basicAuth(auditorToken))
	if got, want := ids(page), []string{env.ids[7], env.ids[4], env.ids[1]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("interview prefix INT-1: %v, want %v", got, want)
	}
	_, page = env.get(t, "/?interview_prefix=iNt", basicAuth(auditorToken))
	if got := ids(page); len(got) != len(env.ids) {
		t.Errorf("interview prefix iNt: %d events, want %d", len(got), len(env.ids))
	}
	// An exact interview id from the event page's link is kept by the form.
	_, page = env.get(t, "/?interview_id=int-2", basicAuth(auditorToken))
	if got := ids(page); len(got) != 3 || !strings.Contains(page, `<input type="hidden" name="interview_id" value="int-2">`) {
		t.Errorf("exact interview: %v; form keeps it: %v", got, strings.Contains(page, `name="interview_id"`))
	}
	id := env.ids[5]
	_, page = env.get(t, "/?id="+strings.ToLower(id), basicAuth(auditorToken))
	if got := ids(page); fmt.Sprint(got) != fmt.Sprint([]string{id}) {
		t.Errorf("event id in lower case: %v, want [%s]", got, id)
	}
	_, page = env.get(t, "/?id="+strings.ToLower(id[:10]), basicAuth(auditorToken))
	if got := ids(page); len(got) == 0 || got[len(got)-1] > id {
		t.Errorf("event id prefix: %v", got)
	}
	_, page = env.get(t, "/?id=not-an-id", basicAuth(auditorToken))
	if !strings.Contains(page, `class="error"`) {
		t.Errorf("a bad event id is not explained")
	}
	for _, path := range []string{"/ui/events/" + strings.ToLower(id), "/api/v1/events/" + strings.ToLower(id)} {
		resp, body := env.get(t, path, basicAuth(auditorToken))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, id) {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := env.get(t, "/api/v1/events?interview_prefix=int-0", bearerAuth(auditorToken)); resp.StatusCode != http.StatusOK {
		t.Errorf("API interview_prefix: %d", resp.StatusCode)
	}
}

// Each result row opens its event from any cell, the event id stays on
// one line, and "UTC" is said once, in the heading, not in every cell.
func TestPageResultRowsLinkedAndUTCOnce(t *testing.T) {
	env := startAdmin(t)
	_, page := env.get(t, "/", basicAuth(auditorToken))
	rows := regexp.MustCompile(`(?s)<tr>\s*(<td.*?)</tr>`).FindAllStringSubmatch(page, -1)
	if len(rows) != len(env.ids) {
		t.Fatalf("%d result rows, want %d", len(rows), len(env.ids))
	}
	for _, row := range rows {
		cells := regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row[1], -1)
		href := regexp.MustCompile(`href="/ui/events/[0-9A-Z]{26}"`).FindString(row[1])
		for i, c := range cells {
			if !strings.HasPrefix(strings.TrimSpace(c[1]), `<a class="cell`) || !strings.Contains(c[1], href) {
				t.Errorf("cell %d of a row is not a link to the row's event: %s", i, c[1])
			}
		}
		if !strings.Contains(row[1], `<td class="nowrap"><a class="cell event-link"`) {
			t.Errorf("event id may wrap: %s", row[1])
		}
		if strings.Contains(row[1], "UTC") {
			t.Errorf("a row says UTC: %s", row[1])
		}
	}
	if strings.Count(page, "Received (UTC)") != 1 {
		t.Errorf("the heading does not say UTC once")
	}
}

// The event page shows the signed timestamp as an RFC 3339 time in UTC
// (with what was sent), and how long each delivery attempt took, fast
// ones included.
func TestPageEventSignedTimeAndTook(t *testing.T) {
	env := startAdmin(t)
	for _, c := range []struct {
		v    inbox.Verification
		want string
	}{
		{inbox.Verification{Mode: "raw", Timestamp: "1763892000", TimestampUnit: "s"}, "<time>2025-11-23T10:00:00Z</time>"},
		{inbox.Verification{Mode: "raw", Timestamp: "1763892000123", TimestampUnit: "ms"}, "<time>2025-11-23T10:00:00.123Z</time>"},
		{inbox.Verification{Mode: "raw", Timestamp: "2025-11-23T11:00:00+01:00", TimestampUnit: "rfc3339"}, "<time>2025-11-23T10:00:00Z</time>"},
	} {
		ev := &inbox.Event{Source: "gather", Provider: "gather", Type: "interview.completed", InterviewID: "ts",
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: []byte("{}"),
			DedupKeys: []string{c.v.Timestamp}, Verification: c.v}
		r, err := env.db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		_, page := env.get(t, "/ui/events/"+r.ID, basicAuth(auditorToken))
		sent := strings.ReplaceAll(c.v.Timestamp, "+", "&#43;") // as html/template escapes it
		if !strings.Contains(page, c.want) || !strings.Contains(page, "sent as <code>"+sent+"</code>") {
			t.Errorf("signed timestamp %s: page lacks %s", c.v.Timestamp, c.want)
		}
	}

	took := map[string]*inbox.Attempt{
		"420 µs":  {LatencyUS: 420},
		"<1 ms":   {}, // recorded before microseconds were
		"12.5 ms": {LatencyMS: 12, LatencyUS: 12_500},
		"2.5s":    {LatencyMS: 2_500, LatencyUS: 2_500_000},
	}
	for want, a := range took {
		d := inboxtest.Queued(t, env.db)[0] // each dead letter lets the next of its interview start
		a.Kind, a.At, a.Number, a.Status, a.Error = inbox.AttemptSend, time.Now(), 1, 410, "status 410"
		if err := env.db.DeadLetter(d, a, "HTTP 410 from destination"); err != nil {
			t.Fatal(err)
		}
		_, page := env.get(t, "/ui/events/"+d.EventID, basicAuth(auditorToken))
		if !strings.Contains(page, `<td class="nowrap">`+html.EscapeString(want)+`</td>`) {
			t.Errorf("attempt took %q: not on the page", want)
		}
	}
}
