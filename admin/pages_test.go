package admin_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

func TestPagesSearchEventAndRaw(t *testing.T) {
	env := startAdmin(t)
	resp, page := env.get(t, "/?interview_id=int-1", basicAuth(auditorToken))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("search: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, i := range []int{1, 4, 7} {
		if !strings.Contains(page, `href="/ui/events/`+env.ids[i]+`"`) {
			t.Errorf("search page lacks event %d", i)
		}
	}
	if strings.Contains(page, env.ids[0]) || strings.Contains(page, "<script") {
		t.Error("search page shows another interview's event, or a script")
	}
	_, page = env.get(t, "/?since=tomorrow", basicAuth(auditorToken))
	if !strings.Contains(page, `class="error"`) || !strings.Contains(page, "is not a time") {
		t.Error("bad filter not explained on the page")
	}
	_, page = env.get(t, "/?interview_id=none", basicAuth(auditorToken))
	if !strings.Contains(page, "No archived events match") {
		t.Error("empty result not explained")
	}

	id := env.ids[4]
	_, page = env.get(t, "/ui/events/"+id, basicAuth(auditorToken))
	for _, want := range []string{
		`&#34;interview_id&#34;: &#34;int-1&#34;`, // pretty-printed JSON, escaped
		"matched the exact bytes received", "Koji-Webhooks/1.0", "pending", "attempts",
		`href="/api/v1/events/` + id + `/raw?download=1"`, `href="/ui/events/` + id + `/raw"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	if strings.Contains(page, "Replay to destinations") {
		t.Error("auditor sees a replay button")
	}
	_, page = env.get(t, "/ui/events/"+id, basicAuth(adminToken))
	if !strings.Contains(page, "Replay to destinations") {
		t.Error("admin sees no replay button")
	}
	body, _ := env.db.Body(id)
	_, page = env.get(t, "/ui/events/"+id+"/raw", basicAuth(auditorToken))
	if !strings.Contains(page, html.EscapeString(string(body))) {
		t.Errorf("raw page lacks the exact body")
	}
}

func TestPagesListsAndVerify(t *testing.T) {
	env := startAdmin(t)
	env.deadLetter(t, env.ids[3])
	_, page := env.get(t, "/ui/deadletters", basicAuth(adminToken))
	if !strings.Contains(page, "HTTP 410 from destination") || !strings.Contains(page, `action="/ui/events/`+env.ids[3]+`/replay"`) ||
		!strings.Contains(page, `name="destination" value="app"`) {
		t.Errorf("dead letters page: %s", page)
	}
	_, page = env.get(t, "/ui/events/"+env.ids[3], basicAuth(auditorToken))
	if !strings.Contains(page, "Delivery history") || !strings.Contains(page, "status 410") {
		t.Errorf("event page lacks the delivery history")
	}
	_, page = env.get(t, "/ui/deadletters", basicAuth(auditorToken))
	if strings.Contains(page, "/replay") {
		t.Error("auditor gets replay forms")
	}
	env.db.LogRejection(inbox.Rejection{Kind: "rejected", Source: "koji", Reason: "bad signature", Status: 401, BodySHA256: "ab"})
	// The rejection log is written in the background.
	waitFor(t, "the rejection on the rejections page", func() bool {
		_, page = env.get(t, "/ui/rejections", basicAuth(auditorToken))
		return strings.Contains(page, "bad signature")
	})
	_, page = env.get(t, "/ui/verify", basicAuth(auditorToken))
	if !strings.Contains(page, "Intact: 9 events checked") {
		t.Errorf("verify page: %s", page)
	}
	resp, page := env.get(t, "/ui/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", basicAuth(auditorToken))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "not found") {
		t.Errorf("missing event page: %d", resp.StatusCode)
	}
	resp, css := env.get(t, "/ui/static/style.css")
	if resp.StatusCode != http.StatusOK || !strings.Contains(css, "font") {
		t.Errorf("stylesheet: %d", resp.StatusCode)
	}
}

// TestPagesExplainRefusalsInHTML: a signed-in browser gets pages, not
// the API's JSON, for a page its role may not see and for a wrong URL.
func TestPagesExplainRefusalsInHTML(t *testing.T) {
	env := startAdmin(t)
	for _, c := range []struct {
		path   string
		status int
		says   string
	}{
		{"/ui/access", http.StatusForbidden, "Forbidden"},
		{"/events/" + env.ids[0], http.StatusNotFound, "Not Found"},
	} {
		resp, body := env.get(t, c.path, basicAuth(auditorToken), header("Accept", "text/html,application/xhtml+xml"))
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s\n%.300s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	// The API keeps answering JSON.
	resp, body := env.get(t, "/api/v1/access", bearerAuth(auditorToken))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"error"`) {
		t.Errorf("API 403: %d %s", resp.StatusCode, body)
	}
	// Even to a browser, an unknown API path is a JSON 404.
	resp, body = env.get(t, "/api/v1/nope", basicAuth(auditorToken), header("Accept", "text/html,application/xhtml+xml"))
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"error"`) {
		t.Errorf("API 404 to a browser: %d %s %.100s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// An event answered again with other bytes names the copies kept for
// them, on its page and in the API, and the search lists them all.
func TestPagesLinkKeptCopies(t *testing.T) {
	env := startAdmin(t)
	first := env.ids[4]
	ev, err := env.db.Event(first)
	if err != nil {
		t.Fatal(err)
	}
	var copies []string
	for _, b := range []string{`{"retry":1}`, `{"retry":2}`} {
		dup := inboxtest.WithBody(&inbox.Event{
			Source: ev.Source, Provider: ev.Provider, Type: ev.Type, InterviewID: ev.InterviewID,
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: ev.ReceivedAt.Add(time.Minute),
			Destinations: []string{"app"},
		}, b, ev.DedupKeys[0])
		if r, err := env.db.Accept(context.Background(), dup); err != nil || !r.Duplicate || r.ID != first {
			t.Fatalf("duplicate with other bytes: %+v, %v", r, err)
		}
	}
	page, err := env.db.List(inbox.Query{DuplicateOf: first})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("kept copies of %s: %+v, %v", first, page.Events, err)
	}
	for _, e := range page.Events {
		copies = append(copies, e.ID)
	}

	_, body := env.get(t, "/api/v1/events/"+first, bearerAuth(auditorToken))
	var d struct {
		KeptCopies []string `json:"kept_copies"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil || !slices.Equal(d.KeptCopies, copies) {
		t.Errorf("kept_copies %v, %v; want %v", d.KeptCopies, err, copies)
	}
	_, body = env.get(t, "/api/v1/events/"+env.ids[5], bearerAuth(auditorToken))
	if !strings.Contains(body, `"kept_copies":[]`) {
		t.Errorf("an event never seen again: %s", body)
	}
	_, html := env.get(t, "/ui/events/"+first, basicAuth(auditorToken))
	for _, want := range []string{`href="/ui/events/` + copies[0] + `"`, `href="/ui/events/` + copies[1] + `"`, `href="/?duplicate_of=` + first + `"`} {
		if !strings.Contains(html, want) {
			t.Errorf("event page lacks %s", want)
		}
	}
	_, html = env.get(t, "/?duplicate_of="+strings.ToLower(first), basicAuth(auditorToken))
	if !strings.Contains(html, `copies of <a href="/ui/events/`+first+`"`) || !strings.Contains(html, copies[0]) || !strings.Contains(html, copies[1]) ||
		strings.Contains(html, `href="/ui/events/`+env.ids[5]+`"`) {
		t.Error("search for the copies: the page does not show exactly them under their filter")
	}
	if !strings.Contains(html, `name="duplicate_of" value="`+first+`"`) {
		t.Error("the search form does not carry the filter on")
	}
}
