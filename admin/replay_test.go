package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/inboxtest"
)

func (env *adminEnv) deadIDs(t *testing.T, query string, opts ...reqOpt) []string {
	t.Helper()
	if len(opts) == 0 {
		opts = []reqOpt{bearerAuth(auditorToken)}
	}
	resp, body := env.get(t, "/api/v1/deadletters"+query, opts...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deadletters%s: %d %s", query, resp.StatusCode, body)
	}
	var out struct {
		DeadLetters []inbox.DeadLetter `json:"deadletters"`
		Count       int                `json:"count"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Count != len(out.DeadLetters) {
		t.Errorf("count %d, %d listed", out.Count, len(out.DeadLetters))
	}
	var ids []string
	for _, dl := range out.DeadLetters {
		ids = append(ids, dl.EventID)
	}
	return ids
}

func (env *adminEnv) postJSON(t *testing.T, path, body string, opts ...reqOpt) (int, string) {
	t.Helper()
	opts = append(opts, header("Content-Type", "application/json"))
	resp, b := env.do(t, http.MethodPost, path, strings.NewReader(body), opts...)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST %s: Content-Type %q, body %s", path, ct, b)
	}
	return resp.StatusCode, b
}

func TestAPIDeadLettersListAndFilter(t *testing.T) {
	env := startAdmin(t)
	for _, i := range []int{0, 1, 2} {
		env.deadLetter(t, env.ids[i])
	}
	all := env.deadIDs(t, "")
	if len(all) != 3 {
		t.Fatalf("dead letters %v, want 3", all)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?source=gather", []string{env.ids[2]}},
		{"?event=interview.analysis_ready", []string{env.ids[1]}},
		{"?event=interview.*&source=koji", []string{env.ids[0], env.ids[1]}},
		{"?destination=app&limit=1", all[:1]},
		{"?destination=other", nil},
		{"?until=2000-01-01", nil},
	} {
		got := env.deadIDs(t, tc.query)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.query, got, want)
		}
	}
	for _, q := range []string{"?since=yesterday", "?limit=0", "?limit=x", "?event=%5B"} {
		resp, body := env.get(t, "/api/v1/deadletters"+q, bearerAuth(auditorToken))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
}

func TestAPIReplayOneEvent(t *testing.T) {
	env := startAdmin(t)
	id := env.ids[0]
	env.deadLetter(t, id)
	path := "/api/v1/events/" + id + "/replay"

	// Refusals first: none of them may queue anything.
	for _, tc := range []struct {
		name   string
		body   string
		opts   []reqOpt
		status int
		msg    string
	}{
		{"no token", `{"reason":"x"}`, nil, http.StatusUnauthorized, "authentication required"},
		{"auditor", `{"reason":"x"}`, []reqOpt{bearerAuth(auditorToken)}, http.StatusForbidden, "forbidden"},
		{"basic without csrf", `{"reason":"x"}`, []reqOpt{basicAuth(adminToken)}, http.StatusForbidden, "CSRF"},
		{"no reason", `{}`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "reason is required"},
		{"empty body", ``, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "reason is required"},
		{"blank reason", `{"reason":"   "}`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "reason is required"},
		{"long reason", `{"reason":"` + strings.Repeat("a", 501) + `"}`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "longer than"},
		{"not json", `reason=x`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "JSON object"},
		{"unknown field", `{"reason":"x","destinaton":"app"}`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "unknown field"},
		{"filter on one event", `{"reason":"x","source":"koji"}`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "only destination and reason"},
		{"two objects", `{"reason":"x"}{}`, []reqOpt{bearerAuth(adminToken)}, http.StatusBadRequest, "one JSON object"},
		{"unknown destination", `{"reason":"x","destination":"nope"}`, []reqOpt{bearerAuth(adminToken)}, http.StatusConflict, "not forwardable"},
	} {
		status, body := env.postJSON(t, path, tc.body, tc.opts...)
		if status != tc.status || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, status, body, tc.status, tc.msg)
		}
	}
	if n, _ := env.replays(t, id); n != 0 {
		t.Fatalf("refused requests recorded %d replays", n)
	}
	if status, body := env.postJSON(t, "/api/v1/events/01JZZZZZZZZZZZZZZZZZZZZZZZ/replay", `{"reason":"x"}`, bearerAuth(adminToken)); status != http.StatusNotFound {
		t.Errorf("unknown event: %d %s", status, body)
	}

	status, body := env.postJSON(t, path, `{"reason":"app fixed its 410","destination":"app"}`, bearerAuth(adminToken))
	if status != http.StatusOK {
		t.Fatalf("replay: %d %s", status, body)
	}
	var got struct {
		EventID string   `json:"event_id"`
		Queued  []string `json:"queued"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.EventID != id || !slices.Equal(got.Queued, []string{"app"}) {
		t.Errorf("answer %+v", got)
	}
	n, by := env.replays(t, id)
	if n != 1 || by != admin.TokenFingerprint(adminToken) {
		t.Errorf("history: %d replays by %q, want 1 by the admin's fingerprint", n, by)
	}
	at, err := env.db.Attempts(id)
	if err != nil {
		t.Fatal(err)
	}
	if last := at[len(at)-1]; last.Reason != "app fixed its 410" {
		t.Errorf("reason recorded %q", last.Reason)
	}
	if dead := env.deadIDs(t, ""); len(dead) != 0 {
		t.Errorf("still dead after replay: %v", dead)
	}
	pending := inboxtest.Queued(t, env.db)
	if !slices.ContainsFunc(pending, func(d inbox.Delivery) bool { return d.EventID == id }) {
		t.Error("replayed event is not queued")
	}

	// A second replay while the first is still pending queues nothing.
	status, body = env.postJSON(t, path, `{"reason":"again"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(body, `"queued":[]`) {
		t.Errorf("replay while pending: %d %s", status, body)
	}
	if !env.trailHas(t, "replay", id) {
		t.Error("replay missing from the access trail")
	}
}

func TestAPIReplayDeadLettersInBulk(t *testing.T) {
	env := startAdmin(t)
	for _, id := range env.ids[:6] {
		env.deadLetter(t, id)
	}
	// Only koji's interview.completed: ids 0 and 4 (2 is gather).
	status, body := env.postJSON(t, "/api/v1/deadletters/replay",
		`{"source":"koji","event":"interview.completed","reason":"bulk after outage"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(body, `"queued":2`) {
		t.Fatalf("bulk replay: %d %s", status, body)
	}
	left := env.deadIDs(t, "")
	if len(left) != 4 || slices.Contains(left, env.ids[0]) || slices.Contains(left, env.ids[4]) {
		t.Errorf("left dead: %v", left)
	}
	for _, id := range []string{env.ids[0], env.ids[4]} {
		if n, _ := env.replays(t, id); n != 1 {
			t.Errorf("%s: %d replays", id, n)
		}
	}
	for _, tc := range []struct{ body, msg string }{
		{`{"source":"koji"}`, "reason is required"},
		{`{"reason":"x","since":"soon"}`, "since"},
		{`{"reason":"x","limit":-1}`, "limit"},
		{`{"reason":"x","limit":"3"}`, "limit must be a number"},
		{`"x"`, "not a JSON object"},
		{`{"reason":5}`, "reason must be a string"},
	} {
		if status, body := env.postJSON(t, "/api/v1/deadletters/replay", tc.body, bearerAuth(adminToken)); status != http.StatusBadRequest || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %s", tc.body, status, body)
		}
	}
	if status, _ := env.postJSON(t, "/api/v1/deadletters/replay", `{"reason":"x"}`, bearerAuth(auditorToken)); status != http.StatusForbidden {
		t.Errorf("auditor bulk replay: %d", status)
	}
	// An empty filter replays the rest.
	status, body = env.postJSON(t, "/api/v1/deadletters/replay", `{"reason":"destination fixed"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(body, `"queued":4`) {
		t.Fatalf("replay all: %d %s", status, body)
	}
	if left := env.deadIDs(t, ""); len(left) != 0 {
		t.Errorf("left dead: %v", left)
	}
}

// trailHas reports whether the access trail holds action on id.
func (env *adminEnv) trailHas(t *testing.T, action, id string) bool {
	t.Helper()
	list, err := env.db.AccessTrail(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Action == action && slices.Contains(a.EventIDs, id) {
			return true
		}
	}
	return false
}

// A destination removed from the config is never queued by a replay:
// nothing would deliver it, so the answer says so instead of "queued".
func TestReplaySkipsDestinationsNotConfigured(t *testing.T) {
	var served atomic.Bool
	env := startAdmin(t, func(c *admin.Config) {
		c.Destinations = func() []string {
			if served.Load() {
				return []string{"app"}
			}
			return nil
		}
	})
	env.deadLetter(t, env.ids[0])
	env.deadLetter(t, env.ids[1])
	one := "/api/v1/events/" + env.ids[0] + "/replay"
	for _, body := range []string{`{"reason":"app is back"}`, `{"reason":"app is back","destination":"app"}`} {
		status, b := env.postJSON(t, one, body, bearerAuth(adminToken))
		if status != http.StatusConflict || !strings.Contains(b, `destination \"app\" is not configured`) {
			t.Errorf("replay %s to a removed destination: %d %s", body, status, b)
		}
	}
	status, b := env.postJSON(t, "/api/v1/deadletters/replay", `{"reason":"app is back"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(b, `"queued":0`) || !strings.Contains(b, `"not_configured":2`) {
		t.Errorf("bulk replay to a removed destination: %d %s", status, b)
	}
	if left := env.deadIDs(t, ""); len(left) != 2 {
		t.Errorf("dead letters after refused replays: %v, want both", left)
	}
	if n, _ := env.replays(t, env.ids[0]); n != 0 {
		t.Errorf("%d replays recorded for a replay that queued nothing", n)
	}

	served.Store(true) // the destination is configured again
	status, b = env.postJSON(t, one, `{"reason":"app is back"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(b, `"queued":["app"]`) || !strings.Contains(b, `"not_configured":[]`) {
		t.Errorf("replay once configured: %d %s", status, b)
	}
	status, b = env.postJSON(t, "/api/v1/deadletters/replay", `{"reason":"app is back"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(b, `"queued":1`) || !strings.Contains(b, `"not_configured":0`) {
		t.Errorf("bulk replay once configured: %d %s", status, b)
	}
}

// acceptFor archives a koji event accepted for dests and returns its id.
func (env *adminEnv) acceptFor(t *testing.T, dests ...string) string {
	t.Helper()
	body := `{"event":"interview.completed","data":{"interview_id":"multi"}}`
	sum := sha256.Sum256([]byte(body))
	r, err := env.db.Accept(context.Background(), &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "multi",
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
		Body: []byte(body), BodySHA256: hex.EncodeToString(sum[:]), BodySize: len(body),
		DedupKeys: []string{"multi:" + strings.Join(dests, ",")}, Destinations: dests,
		Verification: inbox.Verification{Mode: "raw"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// The event page says which destinations a replay left out, and refuses
// a replay to a removed one by name.
func TestPageReplayNamesDestinationsNotConfigured(t *testing.T) {
	env := startAdmin(t, func(c *admin.Config) {
		c.Destinations = func() []string { return []string{"crm"} }
	})
	id := env.acceptFor(t, "app", "crm")
	path := "/ui/events/" + id + "/replay"
	form := func(dest string) *strings.Reader {
		return strings.NewReader(url.Values{"destination": {dest}}.Encode())
	}
	ct := header("Content-Type", "application/x-www-form-urlencoded")
	// crm's delivery is still pending and app is gone: nothing queued,
	// and the page must not blame the pending delivery alone.
	resp, _ := env.do(t, http.MethodPost, path, form(""), bearerAuth(adminToken), ct)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/ui/events/"+id+"?not_configured=app&replayed=0" {
		t.Fatalf("page replay: %d %q", resp.StatusCode, loc)
	}
	_, page := env.get(t, loc, bearerAuth(adminToken))
	if !strings.Contains(page, "Not queued for app: not in this node") || !strings.Contains(page, "Nothing else was queued: the other destinations") {
		t.Errorf("event page after the replay does not say what happened:\n%s", page)
	}
	if strings.Count(page, "(not in this node's config)") != 1 {
		t.Errorf("event page does not mark app's pending delivery (and only it) as not configured:\n%s", page)
	}
	resp, page = env.do(t, http.MethodPost, path, form("app"), bearerAuth(adminToken), ct)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "is not configured") {
		t.Errorf("page replay to the removed destination: %d", resp.StatusCode)
	}
	resp, _ = env.do(t, http.MethodPost, path, form(strings.Repeat("x", 200)), bearerAuth(adminToken), ct)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("page replay to a 200-byte destination: %d", resp.StatusCode)
	}
}

// A limited bulk replay does not count the dead letters it must leave
// (their destination is gone) against its limit, so it reaches the rest.
func TestBulkReplayLimitSkipsDestinationsNotConfigured(t *testing.T) {
	env := startAdmin(t, func(c *admin.Config) {
		c.Destinations = func() []string { return []string{"crm"} }
	})
	env.deadLetter(t, env.ids[0])
	env.deadLetter(t, env.ids[1])
	id := env.acceptFor(t, "crm")
	a := &inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Number: 1, Status: 410, Error: "status 410"}
	if err := env.db.DeadLetter(queuedDelivery(t, env.db, id, "crm"), a, "HTTP 410"); err != nil {
		t.Fatal(err)
	}
	status, b := env.postJSON(t, "/api/v1/deadletters/replay", `{"reason":"crm fixed","limit":1}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(b, `"queued":1`) || !strings.Contains(b, `"not_configured":2`) {
		t.Errorf("limited bulk replay: %d %s", status, b)
	}
	if left := env.deadIDs(t, "?destination=crm"); len(left) != 0 {
		t.Errorf("crm dead letters left: %v", left)
	}
	// The page offers no replay for the removed destination's dead letters.
	_, page := env.get(t, "/ui/deadletters", bearerAuth(adminToken))
	if n := strings.Count(page, "not in this node's config"); n != 2 || strings.Contains(page, `/replay"`) {
		t.Errorf("dead letters page: %d rows marked not configured, want 2, and no replay form for app:\n%s", n, page)
	}
}
