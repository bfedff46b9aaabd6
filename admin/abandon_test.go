package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
)

const abandonPath = "/api/v1/deadletters/abandon"

// acceptForN archives n koji events accepted for dests, in interviews of
// their own, and returns their ids.
func (env *adminEnv) acceptForN(t *testing.T, n int, dests ...string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		body := fmt.Sprintf(`{"event":"interview.completed","data":{"interview_id":"gone-%d"}}`, i)
		sum := sha256.Sum256([]byte(body))
		r, err := env.db.Accept(context.Background(), &inbox.Event{
			Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: fmt.Sprint("gone-", i),
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
			Body: []byte(body), BodySHA256: hex.EncodeToString(sum[:]), BodySize: len(body),
			DedupKeys: []string{fmt.Sprint("gone:", i)}, Destinations: dests,
			Verification: inbox.Verification{Mode: "raw"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// An admin abandons a removed destination: its pending deliveries become
// dead letters with the reason (listed, on the event page, in the
// history), the one a forwarder holds is left and counted, the
// configured destination's deliveries are untouched, and the request is
// on the access trail.
func TestAPIAbandonRemovedDestination(t *testing.T) {
	env := startAdmin(t, func(c *admin.Config) { c.Destinations = func() []string { return []string{"app"} } })
	ids := env.acceptForN(t, 3, "app", "retired")
	held, _, err := env.db.Claim(time.Now(), map[string]int{"retired": 1}, time.Hour)
	if err != nil || len(held) != 1 {
		t.Fatalf("claim: %v, %v", held, err)
	}
	appBefore := env.depth(t, "app")

	status, body := env.postJSON(t, abandonPath, `{"destination":"retired","reason":"app decommissioned"}`, bearerAuth(adminToken))
	if status != http.StatusOK || body != `{"dead_lettered":2,"destination":"retired","leased":1}`+"\n" {
		t.Fatalf("abandon: %d %s", status, body)
	}
	dead := env.deadIDs(t, "?destination=retired")
	if len(dead) != 2 || dead[0] == held[0].EventID || dead[1] == held[0].EventID {
		t.Errorf("dead letters of retired: %v, want the two of %v not held (%s)", dead, ids, held[0].EventID)
	}
	if app, retired := env.depth(t, "app"), env.depth(t, "retired"); app != appBefore || retired != 1 {
		t.Errorf("pending after the abandon: app %d, retired %d; want app's %d untouched, retired's held one", app, retired, appBefore)
	}
	resp, page := env.get(t, "/ui/events/"+dead[0], bearerAuth(auditorToken))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "given up (destination removed) by <code>"+admin.TokenFingerprint(adminToken)) ||
		!strings.Contains(page, "app decommissioned") {
		t.Errorf("event page: %d, no abandon line in the history", resp.StatusCode)
	}
	list, err := env.db.AccessTrail(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if i := indexAction(list, "abandon"); i < 0 || list[i].Query != "destination=retired&reason=app+decommissioned" || list[i].Role != "admin" {
		t.Errorf("trail: %+v, want an abandon entry with destination and reason", list)
	}

	// Once the forwarder's lease has passed, a second call takes the rest.
	env.db.Release(held[0])
	status, body = env.postJSON(t, abandonPath, `{"destination":"retired","reason":"app decommissioned"}`, bearerAuth(adminToken))
	if status != http.StatusOK || !strings.Contains(body, `"dead_lettered":1`) || !strings.Contains(body, `"leased":0`) {
		t.Errorf("second abandon: %d %s", status, body)
	}
}

// depth is how many deliveries to dest are pending.
func (env *adminEnv) depth(t *testing.T, dest string) int {
	t.Helper()
	st, err := env.db.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	return st[dest].Depth
}

func indexAction(list []inbox.Access, action string) int {
	for i, a := range list {
		if a.Action == action {
			return i
		}
	}
	return -1
}

// Refused requests abandon nothing, and say why in JSON.
func TestAPIAbandonRefusals(t *testing.T) {
	env := startAdmin(t, func(c *admin.Config) { c.Destinations = func() []string { return []string{"app"} } })
	env.acceptForN(t, 2, "retired")
	nothing := startAdmin(t) // Destinations nil: every destination counts as configured
	for _, c := range []struct {
		name   string
		env    *adminEnv
		body   string
		opts   []reqOpt
		status int
		msg    string
	}{
		{"no token", env, `{"destination":"retired","reason":"x"}`, nil, 401, "authentication required"},
		{"auditor", env, `{"destination":"retired","reason":"x"}`, []reqOpt{bearerAuth(auditorToken)}, 403, "forbidden"},
		{"basic without csrf", env, `{"destination":"retired","reason":"x"}`, []reqOpt{basicAuth(adminToken)}, 403, "CSRF"},
		{"no reason", env, `{"destination":"retired"}`, []reqOpt{bearerAuth(adminToken)}, 400, "reason is required: say why this is abandoned"},
		{"blank reason", env, `{"destination":"retired","reason":" \t"}`, []reqOpt{bearerAuth(adminToken)}, 400, "reason is required"},
		{"long reason", env, `{"destination":"retired","reason":"` + strings.Repeat("r", 501) + `"}`, []reqOpt{bearerAuth(adminToken)}, 400, "reason is longer than 500 bytes"},
		{"no destination", env, `{"reason":"x"}`, []reqOpt{bearerAuth(adminToken)}, 400, "destination is required"},
		{"blank destination", env, `{"destination":"  ","reason":"x"}`, []reqOpt{bearerAuth(adminToken)}, 400, "destination is required"},
		{"long destination", env, `{"destination":"` + strings.Repeat("d", 129) + `","reason":"x"}`, []reqOpt{bearerAuth(adminToken)}, 400, "destination is longer than 128 bytes"},
		{"unknown field", env, `{"destination":"retired","reason":"x","source":"koji"}`, []reqOpt{bearerAuth(adminToken)}, 400, `unknown field \"source\"`},
		{"not json", env, `retired`, []reqOpt{bearerAuth(adminToken)}, 400, "syntax error at byte 1"},
		{"two objects", env, `{"destination":"retired","reason":"x"} {}`, []reqOpt{bearerAuth(adminToken)}, 400, "one JSON object"},
		{"configured", env, `{"destination":"app","reason":"x"}`, []reqOpt{bearerAuth(adminToken)}, 409, `destination \"app\" is configured on this node`},
		{"list unknown", nothing, `{"destination":"retired","reason":"x"}`, []reqOpt{bearerAuth(adminToken)}, 409, `destination \"retired\" is configured on this node`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := c.env.postJSON(t, abandonPath, c.body, c.opts...)
			if status != c.status || !strings.Contains(body, c.msg) || !strings.Contains(body, `"request_id"`) {
				t.Errorf("%d %s; want %d with %q", status, body, c.status, c.msg)
			}
		})
	}
	if dead := env.deadIDs(t, ""); len(dead) != 0 {
		t.Errorf("dead letters after refused requests: %v", dead)
	}
	if n := env.depth(t, "retired"); n != 2 {
		t.Errorf("%d pending for retired after refused requests, want 2", n)
	}
}

// The dead letters page lists what waits for a removed destination, and
// an admin gives it up from there with a reason: the deliveries become
// dead letters, the page says how many, and a configured destination or
// a missing reason is refused with the form's page, not JSON.
func TestPageAbandonRemovedDestination(t *testing.T) {
	env := startAdmin(t, func(c *admin.Config) { c.Destinations = func() []string { return []string{"app"} } })
	env.acceptForN(t, 3, "app", "retired")

	_, page := env.get(t, "/ui/deadletters", basicAuth(auditorToken))
	if !strings.Contains(page, "Waiting for removed destinations") || !strings.Contains(page, "<td>retired</td>\n    <td>3</td>") {
		t.Fatalf("auditor's dead letters page lacks the retired destination's backlog:\n%s", page)
	}
	if strings.Contains(page, "<td>app</td>") || strings.Contains(page, "/ui/deadletters/abandon") {
		t.Error("auditor's page lists the configured destination, or offers to give up")
	}
	_, page = env.get(t, "/ui/deadletters", basicAuth(adminToken))
	const marker = `name="csrf" value="`
	i := strings.Index(page, marker)
	if i < 0 || !strings.Contains(page, `action="/ui/deadletters/abandon"`) {
		t.Fatalf("admin's page has no form to give up:\n%s", page)
	}
	tok := page[i+len(marker):]
	tok = tok[:strings.IndexByte(tok, '"')]
	post := func(dest, reason string) (*http.Response, string) {
		form := url.Values{"csrf": {tok}, "destination": {dest}, "reason": {reason}}.Encode()
		return env.do(t, http.MethodPost, "/ui/deadletters/abandon", strings.NewReader(form), basicAuth(adminToken),
			header("Content-Type", "application/x-www-form-urlencoded"), header("Origin", env.base))
	}
	for _, c := range []struct{ dest, reason, says string }{
		{"app", "no longer needed", "configured on this node"},
		{"retired", "  ", "reason is required"},
	} {
		resp, body := post(c.dest, c.reason)
		if resp.StatusCode < 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, c.says) {
			t.Errorf("give up %q with reason %q: %d %s, want a page saying %q", c.dest, c.reason, resp.StatusCode, resp.Header.Get("Content-Type"), c.says)
		}
	}
	if d := env.depth(t, "retired"); d != 3 {
		t.Fatalf("refused requests changed the backlog: %d pending", d)
	}

	resp, _ := post("retired", "app decommissioned")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/ui/deadletters?abandoned=3&destination=retired&leased=0" {
		t.Fatalf("give up: %d %q", resp.StatusCode, loc)
	}
	_, page = env.get(t, loc, basicAuth(adminToken))
	if !strings.Contains(page, "Gave up on 3 pending deliveries to retired") || strings.Contains(page, "Waiting for removed destinations") {
		t.Errorf("page after giving up:\n%s", page)
	}
	if dead := env.deadIDs(t, "?destination=retired"); len(dead) != 3 || env.depth(t, "retired") != 0 {
		t.Errorf("dead letters of retired: %v, pending %d", dead, env.depth(t, "retired"))
	}
	if strings.Count(page, `action="/ui/events/`) != 0 {
		t.Error("dead letters of a removed destination offer a replay button")
	}
}
