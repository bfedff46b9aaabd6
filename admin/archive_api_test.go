package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
)

func listIDs(t *testing.T, env *adminEnv, query string) ([]string, string) {
	t.Helper()
	resp, body := env.get(t, "/api/v1/events?"+query, bearerAuth(auditorToken))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", query, resp.StatusCode, body)
	}
	var p struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.NextCursor == nil || p.Events == nil {
		t.Fatalf("%s: bad body %s (%v)", query, body, err)
	}
	ids := []string{}
	for _, e := range p.Events {
		ids = append(ids, e.ID)
	}
	return ids, *p.NextCursor
}

func TestAPIListFilters(t *testing.T) {
	env := startAdmin(t)
	pick := func(idx ...int) string {
		out := []string{}
		for _, i := range idx {
			out = append(out, env.ids[i])
		}
		return fmt.Sprint(out)
	}
	ts := func(s int) string {
		return url.QueryEscape(env.t0.Add(time.Duration(s) * time.Second).Format(time.RFC3339))
	}
	cases := []struct{ query, want string }{
		{"", pick(8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"interview_id=int-1", pick(7, 4, 1)},
		{"interview_id=int-2&source=gather", pick(8, 5, 2)},
		{"interview_id=int-2&source=koji", pick()},
		{"source=koji&event=interview.analysis_ready", pick(7, 3, 1)},
		{"event=interview.analysis_ready", pick(7, 5, 3, 1)},
		{"source=gather", pick(8, 5, 2)},
		{"status=accepted&limit=2", pick(8, 7)},
		{"status=quarantined", pick()},
		{"since=" + ts(2) + "&until=" + ts(5), pick(4, 3, 2)},
		{"since=2026-11-02&until=2026-11-03&interview_id=int-0", pick(6, 3, 0)},
		{"until=2026-11-02T10:00:01", pick(0)},
	}
	for _, c := range cases {
		if got, _ := listIDs(t, env, c.query); fmt.Sprint(got) != c.want {
			t.Errorf("%q:\n got %v\nwant %v", c.query, got, c.want)
		}
	}
	// Paging with the cursor walks everything once.
	var all []string
	q := "limit=4"
	for range 5 {
		ids, next := listIDs(t, env, q)
		all = append(all, ids...)
		if next == "" {
			break
		}
		q = "limit=4&cursor=" + next
	}
	if fmt.Sprint(all) != pick(8, 7, 6, 5, 4, 3, 2, 1, 0) {
		t.Errorf("paged: %v", all)
	}
	for _, bad := range []string{"limit=0", "limit=5000", "limit=x", "since=yesterday", "until=2026-13-01", "status=lost", "cursor=zzz"} {
		resp, body := env.get(t, "/api/v1/events?"+bad, bearerAuth(auditorToken))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
}

func TestAPIEventDetailAndRaw(t *testing.T) {
	env := startAdmin(t)
	id := env.ids[4]
	// A duplicate delivery of event 4 becomes a sighting.
	dup, _ := env.db.Event(id)
	dup.Body, _ = env.db.Body(id)
	dup.RemoteAddr = "198.51.100.9"
	if r, err := env.db.Accept(t.Context(), dup); err != nil || !r.Duplicate {
		t.Fatalf("dup: %+v %v", r, err)
	}
	env.deadLetter(t, id)
	resp, body := env.get(t, "/api/v1/events/"+id, bearerAuth(auditorToken))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var d struct {
		Attempts     []inbox.Attempt    `json:"attempts"`
		ID           string             `json:"id"`
		Seq          uint64             `json:"seq"`
		Hash         string             `json:"hash"`
		PrevHash     string             `json:"prev_hash"`
		Verification inbox.Verification `json:"verification"`
		Sightings    inbox.Sightings    `json:"sightings"`
		Deliveries   []inbox.DeliveryState
		Extras       map[string]json.RawMessage `json:"extras"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Seq != 5 || d.Hash == "" || d.PrevHash == "" || d.Verification.Mode != "raw" {
		t.Errorf("metadata: %+v", d)
	}
	if d.Sightings.Count != 1 || d.Sightings.Recent[0].RemoteAddr != "198.51.100.9" {
		t.Errorf("sightings: %+v", d.Sightings)
	}
	if len(d.Deliveries) != 1 || d.Deliveries[0].Destination != "app" || d.Deliveries[0].Status != inbox.DeliveryDead {
		t.Errorf("deliveries: %+v", d.Deliveries)
	}
	if len(d.Attempts) != 1 || d.Attempts[0].Status != 410 || d.Attempts[0].Outcome != inbox.OutcomeDead {
		t.Errorf("attempts: %+v", d.Attempts)
	}
	if !strings.Contains(string(d.Extras["enrichment"]), id) {
		t.Errorf("extras: %s", body)
	}
	want, _ := env.db.Body(id)
	resp, raw := env.get(t, "/api/v1/events/"+id+"/raw", basicAuth(auditorToken))
	if raw != string(want) || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="`+id+`.json"` {
		t.Errorf("raw: %q %q %q", raw, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	resp, _ = env.get(t, "/api/v1/events/"+id+"/raw?download=1", basicAuth(auditorToken))
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %q", resp.Header.Get("Content-Disposition"))
	}
	for _, p := range []string{"/api/v1/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/api/v1/events/nope/raw", "/ui/events/nope"} {
		if resp, _ := env.get(t, p, bearerAuth(auditorToken)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestAPIExportStreamsAndVerifiesOffline(t *testing.T) {
	env := startAdmin(t)
	resp, body := env.get(t, "/api/v1/export", bearerAuth(auditorToken))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[9], `{"export_end":{"records":9,`) {
		t.Fatalf("lines = %d, last %s", len(lines), lines[len(lines)-1])
	}
	var first struct {
		ID, Hash, PrevHash string
		Body               []byte `json:"body"`
		Seq                uint64
	}
	_ = json.Unmarshal([]byte(lines[0]), &first)
	wantBody, _ := env.db.Body(env.ids[0])
	if first.ID != env.ids[0] || first.Seq != 1 || string(first.Body) != string(wantBody) || !strings.Contains(lines[0], `"prev_hash":"000000`) {
		t.Errorf("first record: %s", lines[0])
	}
	rep, err := inbox.VerifyExport(strings.NewReader(body))
	if err != nil || !rep.OK || rep.Checked != 9 {
		t.Errorf("offline verify: %+v %v", rep, err)
	}
	// Cut at a line boundary, it lacks its end line.
	cut := strings.Join(lines[:5], "\n") + "\n"
	if rep, err := inbox.VerifyExport(strings.NewReader(cut)); err != nil || rep.OK || rep.Broken == nil || rep.Broken.Line != 6 {
		t.Errorf("export cut after 5 records: %+v %v", rep, err)
	}
	since := url.QueryEscape(env.t0.Add(3 * time.Second).Format(time.RFC3339))
	until := url.QueryEscape(env.t0.Add(6 * time.Second).Format(time.RFC3339))
	_, part := env.get(t, "/api/v1/export?since="+since+"&until="+until, bearerAuth(auditorToken))
	rep, err = inbox.VerifyExport(strings.NewReader(part))
	if err != nil || !rep.OK || rep.Checked != 3 || rep.StartSeq != 3 {
		t.Errorf("partial export verify: %+v %v\n%s", rep, err, part)
	}
	if resp, _ := env.get(t, "/api/v1/export?since=nonsense", bearerAuth(auditorToken)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad since: %d", resp.StatusCode)
	}
}

func TestAPIVerify(t *testing.T) {
	env := startAdmin(t)
	var rep inbox.VerifyReport
	_, body := env.get(t, "/api/v1/archive/verify", bearerAuth(auditorToken))
	if err := json.Unmarshal([]byte(body), &rep); err != nil || !rep.OK || rep.Checked != 9 {
		t.Fatalf("verify: %s", body)
	}
}

func TestAccessTrailRecordsReadsByFingerprint(t *testing.T) {
	env := startAdmin(t)
	id := env.ids[2]
	env.get(t, "/api/v1/events/"+id, bearerAuth(auditorToken))
	env.get(t, "/api/v1/events/"+id+"/raw?download=1", bearerAuth(auditorToken))
	env.get(t, "/ui/events/"+id+"/raw", basicAuth(auditorToken))
	env.get(t, "/api/v1/export?since=2026-11-02", bearerAuth(auditorToken))
	env.get(t, "/api/v1/events?interview_id=int-2", bearerAuth(auditorToken))
	resp, body := env.get(t, "/api/v1/access", bearerAuth(adminToken))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, auditorToken) || strings.Contains(body, adminToken) {
		t.Fatal("the trail holds a token")
	}
	var tr struct{ Access []inbox.Access }
	_ = json.Unmarshal([]byte(body), &tr)
	fp := admin.TokenFingerprint(auditorToken)
	var got []string
	for _, a := range tr.Access {
		if a.Token != fp || a.Role != "auditor" {
			t.Errorf("entry by %q (%s)", a.Token, a.Role)
		}
		got = append(got, a.Action+":"+strings.Join(a.EventIDs, ",")+":"+a.Query)
	}
	want := []string{"search::interview_id=int-2", "export::since=2026-11-02", "raw:" + id + ":", "download:" + id + ":", "view:" + id + ":"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("trail:\n got %v\nwant %v", got, want)
	}
	// Admins see the trail page too; auditors do not.
	if resp, page := env.get(t, "/ui/access", basicAuth(adminToken)); resp.StatusCode != http.StatusOK || !strings.Contains(page, fp) {
		t.Errorf("trail page: %d", resp.StatusCode)
	}
}

func TestCSRFOnBrowserPosts(t *testing.T) {
	env := startAdmin(t)
	id := env.ids[1]
	env.deadLetter(t, id)
	// The event page, as an admin's browser sees it, carries the token.
	_, page := env.get(t, "/ui/events/"+id, basicAuth(adminToken))
	const marker = `name="csrf" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatal("no CSRF field on the event page")
	}
	tok := page[i+len(marker):]
	tok = tok[:strings.IndexByte(tok, '"')]
	form := func(v string) *strings.Reader { return strings.NewReader(url.Values{"csrf": {v}}.Encode()) }
	ct := header("Content-Type", "application/x-www-form-urlencoded")
	origin := header("Origin", env.base)
	path := "/ui/events/" + id + "/replay"
	refused := []struct {
		name string
		body *strings.Reader
		opts []reqOpt
	}{
		{"no token", form(""), []reqOpt{basicAuth(adminToken), ct, origin}},
		{"wrong token", form("forged"), []reqOpt{basicAuth(adminToken), ct, origin}},
		{"other session's token", form(tok), []reqOpt{basicAuth("other"), ct, origin}},
		{"cross-site origin", form(tok), []reqOpt{basicAuth(adminToken), ct, header("Origin", "https://evil.example")}},
		{"no origin or referer", form(tok), []reqOpt{basicAuth(adminToken), ct}},
		{"cross-site referer", form(tok), []reqOpt{basicAuth(adminToken), ct, header("Referer", "https://evil.example/x")}},
	}
	for _, c := range refused {
		resp, body := env.do(t, http.MethodPost, path, c.body, c.opts...)
		if c.name == "other session's token" {
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: %d", c.name, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
	if n, _ := env.replays(t, id); n != 0 {
		t.Fatalf("forged requests replayed %d times", n)
	}
	resp, _ := env.do(t, http.MethodPost, path, form(tok), basicAuth(adminToken), ct, origin)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/events/"+id+"?replayed=1" {
		t.Fatalf("good post: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n, by := env.replays(t, id); n != 1 || by != admin.TokenFingerprint(adminToken) {
		t.Errorf("replays = %d by %q", n, by)
	}
	resp, _ = env.do(t, http.MethodPost, path, form(tok), basicAuth(adminToken), ct, header("Referer", env.base+"/ui/events/"+id))
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin referer: %d", resp.StatusCode)
	}
	// API clients with Bearer tokens are not CSRF-able: no token needed.
	resp, _ = env.do(t, http.MethodPost, path, nil, bearerAuth(adminToken))
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("bearer post: %d", resp.StatusCode)
	}
	// The delivery is pending again, so those two queued nothing more.
	if n, _ := env.replays(t, id); n != 1 {
		t.Errorf("replays = %d, want 1", n)
	}
}
