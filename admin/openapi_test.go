package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
	"go.yaml.in/yaml/v3"
)

// The admin API's OpenAPI description (docs/openapi.yaml) is checked here
// against the admin listener itself: the routes it registers, the roles
// it enforces and the shapes of the answers it really sends.

const openAPIFile = "../docs/openapi.yaml"

// apiDoc is the parsed document: root is the whole tree, for following
// $refs; paths holds its operations by path and lower-case method.
type apiDoc struct {
	root  map[string]any
	paths map[string]map[string]map[string]any
}

func loadOpenAPI(t *testing.T) *apiDoc {
	t.Helper()
	b, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	d := &apiDoc{paths: map[string]map[string]map[string]any{}}
	if err := yaml.Unmarshal(b, &d.root); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	paths, ok := d.root["paths"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no paths", openAPIFile)
	}
	for p, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not a map", p)
		}
		d.paths[p] = map[string]map[string]any{}
		for m, op := range ops {
			if !slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, m) {
				continue
			}
			o, ok := op.(map[string]any)
			if !ok {
				t.Fatalf("%s %s is not a map", m, p)
			}
			d.paths[p][m] = o
		}
	}
	return d
}

// operations are the documented routes as "METHOD /path", the form
// admin.Routes lists them in.
func (d *apiDoc) operations() []string {
	var out []string
	for p, ops := range d.paths {
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

// resolve follows v's $ref, if any, within the document.
func (d *apiDoc) resolve(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%v is not an object", v)
	}
	for range 10 {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var cur any = d.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cm, ok := cur.(map[string]any)
			if !ok || !strings.HasPrefix(ref, "#/") {
				return nil, fmt.Errorf("$ref %s does not resolve", ref)
			}
			cur = cm[part]
		}
		if m, ok = cur.(map[string]any); !ok {
			return nil, fmt.Errorf("$ref %s does not resolve", ref)
		}
	}
	return nil, fmt.Errorf("$ref loop at %v", m)
}

// isAPIRoute says whether a registered route belongs in the document: all
// but the archive browser's HTML pages and the profiler.
func isAPIRoute(route string) bool {
	_, p, _ := strings.Cut(route, " ")
	return p != "/" && !strings.HasPrefix(p, "/ui/") && !strings.HasPrefix(p, "/debug/pprof/")
}

// The document describes exactly the routes the admin listener registers
// (with every optional route on): a new route fails here until it is
// documented, and so does a documented route that is gone.
func TestOpenAPICoversEveryAdminRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	env := startFullAdmin(t, badger.Options{})
	var registered []string
	for _, r := range admin.Routes(env.admin) {
		if isAPIRoute(r) {
			registered = append(registered, r)
		}
	}
	if len(registered) == 0 {
		t.Fatal("walked no routes")
	}
	documented := doc.operations()
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but missing from %s", r, openAPIFile)
		}
	}
	for _, r := range documented {
		if !slices.Contains(registered, r) {
			t.Errorf("%s is in %s but the admin listener does not serve it", r, openAPIFile)
		}
	}
}

// The document is well formed as far as a client generator cares: OpenAPI
// 3.1, unique operation ids, every $ref resolving, path parameters
// declared, string status codes, a role on every operation that matches
// its security, and the errors every archive route can answer.
func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc.root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi: %q, want 3.1.x", v)
	}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$ref"]; ok {
				if _, err := doc.resolve(v); err != nil {
					t.Errorf("%s: %v", where, err)
				}
			}
			for k, c := range v {
				walk(where+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprint(where, "/", i), c)
			}
		}
	}
	walk("#", doc.root)

	schemes, _ := doc.root["components"].(map[string]any)["securitySchemes"].(map[string]any)
	ids := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for _, route := range doc.operations() {
		method, p, _ := strings.Cut(route, " ")
		op := doc.paths[p][strings.ToLower(method)]
		id, _ := op["operationId"].(string)
		if id == "" || ids[id] != "" {
			t.Errorf("%s: operationId %q missing or also used by %s", route, id, ids[id])
		}
		ids[id] = route

		declared := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, pv := range params {
			pm, err := doc.resolve(pv)
			if err != nil {
				t.Errorf("%s: %v", route, err)
				continue
			}
			if pm["in"] == "path" {
				declared[fmt.Sprint(pm["name"])] = pm["required"] == true
			}
		}
		for _, m := range param.FindAllStringSubmatch(p, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s not declared as required", route, m[1])
			}
		}

		role, _ := op["x-porch-role"].(string)
		sec, hasSec := op["security"].([]any)
		switch role {
		case "none":
			if !hasSec || len(sec) != 0 {
				t.Errorf("%s: role none needs security: []", route)
			}
		case "auditor", "admin":
			if hasSec {
				t.Errorf("%s: a %s route takes the document's bearer and basic security", route, role)
			}
		default:
			t.Errorf("%s: x-porch-role %q, want none, auditor or admin", route, role)
		}
		for _, s := range sec {
			for name := range s.(map[string]any) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: unknown security scheme %s", route, name)
				}
			}
		}

		responses, ok := op["responses"].(map[string]any)
		if !ok {
			t.Errorf("%s: no responses", route)
			continue
		}
		for code := range responses {
			if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 {
				t.Errorf("%s: response %q is not an HTTP status", route, code)
			}
		}
		if strings.HasPrefix(p, "/api/") {
			for _, code := range []string{"401", "403", "429", "500"} {
				if _, ok := responses[code]; !ok {
					t.Errorf("%s: every archive route can answer %s; it is not documented", route, code)
				}
			}
		}
	}
}

// The roles the document names are the ones the listener enforces: every
// operation without a token is 401 unless its role is none, and an
// auditor token on an admin operation is 403. Both answers fit the
// document too.
func TestOpenAPIRolesAreEnforced(t *testing.T) {
	doc := loadOpenAPI(t)
	env := startFullAdmin(t, badger.Options{})
	id := env.ids[0]
	for _, route := range doc.operations() {
		method, p, _ := strings.Cut(route, " ")
		role := doc.paths[p][strings.ToLower(method)]["x-porch-role"]
		path := strings.ReplaceAll(p, "{id}", id)
		resp, body := env.do(t, method, path, strings.NewReader(`{"reason":"role check"}`))
		switch {
		case role == "none" && resp.StatusCode != http.StatusOK:
			t.Errorf("%s without a token: %d, want 200", route, resp.StatusCode)
		case role != "none" && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s without a token: %d, want 401", route, resp.StatusCode)
		case role != "none":
			doc.conform(t, method, p, resp, body)
		}
		if role != "admin" {
			continue
		}
		resp, body = env.do(t, method, path, strings.NewReader(`{"reason":"role check"}`), bearerAuth(auditorToken))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with an auditor token: %d, want 403", route, resp.StatusCode)
		}
		doc.conform(t, method, p, resp, body)
	}
}

// Real answers of the key endpoints fit the document's schemas: a search
// page, an event with sightings, deliveries and attempts, the raw body's
// headers, an export, dead letters, the logs, replays and the error
// answers.
func TestOpenAPIAnswersFitTheSchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	env := startFullAdmin(t, badger.Options{}, func(c *admin.Config) { c.Destinations = func() []string { return []string{"app"} } })
	id := env.ids[1]
	env.acceptFor(t, "retired") // pending for a destination no longer configured
	// Give id a duplicate sighting, a dead letter and then a replay, so
	// that its detail has every section filled in.
	env.duplicateOf(t, 1)
	env.deadLetter(t, id)
	env.deadLetter(t, env.ids[3])
	env.db.LogRejection(inbox.Rejection{At: time.Now().UTC(), Kind: "rejected", Source: "koji", Reason: "bad signature",
		Status: 401, RemoteAddr: "203.0.113.9", Headers: map[string][]string{"User-Agent": {"curl"}}, BodySHA256: strings.Repeat("ab", 32)})
	waitFor(t, "the rejection logged (in the background)", func() bool {
		l, err := env.db.Rejections(0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return len(l) > 0
	})

	type call struct {
		method, route, path, body, token string
		status                           int
		// has names top-level fields the answer must carry non-empty, so
		// the schema check is not run over empty lists.
		has []string
	}
	calls := []call{
		{"POST", "/api/v1/events/{id}/replay", "/api/v1/events/" + id + "/replay", `{"reason":"handler fixed"}`, adminToken, 200, []string{"queued"}},
		{"GET", "/api/v1/events", "/api/v1/events?limit=3", "", auditorToken, 200, []string{"events", "next_cursor"}},
		{"GET", "/api/v1/events", "/api/v1/events?source=nobody", "", auditorToken, 200, nil},
		{"GET", "/api/v1/events/{id}", "/api/v1/events/" + id, "", auditorToken, 200, []string{"sightings", "deliveries", "attempts", "extras", "headers", "dedup_keys"}},
		{"GET", "/api/v1/events/{id}/raw", "/api/v1/events/" + id + "/raw", "", auditorToken, 200, nil},
		{"GET", "/api/v1/export", "/api/v1/export", "", auditorToken, 200, nil},
		{"GET", "/api/v1/archive/verify", "/api/v1/archive/verify", "", auditorToken, 200, []string{"ok", "checked"}},
		{"GET", "/api/v1/deadletters", "/api/v1/deadletters", "", auditorToken, 200, []string{"deadletters", "count"}},
		{"GET", "/api/v1/rejections", "/api/v1/rejections?limit=1", "", auditorToken, 200, []string{"rejections", "next_before"}},
		{"GET", "/api/v1/access", "/api/v1/access?limit=5", "", adminToken, 200, []string{"access", "next_before"}},
		{"POST", "/api/v1/deadletters/replay", "/api/v1/deadletters/replay", `{"reason":"destination back","destination":"app"}`, adminToken, 200, []string{"queued"}},
		{"POST", "/api/v1/deadletters/abandon", "/api/v1/deadletters/abandon", `{"destination":"retired","reason":"app decommissioned"}`, adminToken, 200, []string{"destination", "dead_lettered"}},
		{"POST", "/api/v1/reload", "/api/v1/reload", "", adminToken, 200, []string{"reloaded"}},
		{"GET", "/api/v1/backup", "/api/v1/backup", "", adminToken, 200, nil},
		{"GET", "/healthz", "/healthz", "", "", 200, []string{"status"}},
		{"GET", "/metrics", "/metrics", "", "", 200, nil},
		// Errors.
		{"GET", "/api/v1/events", "/api/v1/events?limit=0", "", auditorToken, 400, []string{"error", "request_id"}},
		{"GET", "/api/v1/events", "/api/v1/events?status=lost", "", auditorToken, 400, []string{"error"}},
		{"GET", "/api/v1/export", "/api/v1/export?since=yesterday", "", auditorToken, 400, []string{"error"}},
		{"GET", "/api/v1/deadletters", "/api/v1/deadletters?event=%5B", "", auditorToken, 400, []string{"error"}},
		{"GET", "/api/v1/events/{id}", "/api/v1/events/01KAB3Q8W4M7Z5N2F9XH6TJ0CE", "", auditorToken, 404, []string{"error"}},
		{"GET", "/api/v1/events/{id}/raw", "/api/v1/events/nothing/raw", "", auditorToken, 404, []string{"error"}},
		{"POST", "/api/v1/events/{id}/replay", "/api/v1/events/" + id + "/replay", `{}`, adminToken, 400, []string{"error"}},
		{"POST", "/api/v1/events/{id}/replay", "/api/v1/events/" + id + "/replay", `{"reason":"x","destinaton":"app"}`, adminToken, 400, []string{"error"}},
		{"POST", "/api/v1/events/{id}/replay", "/api/v1/events/" + id + "/replay", `{"reason":"x","destination":"elsewhere"}`, adminToken, 409, []string{"error"}},
		{"POST", "/api/v1/events/{id}/replay", "/api/v1/events/01KAB3Q8W4M7Z5N2F9XH6TJ0CE/replay", `{"reason":"x"}`, adminToken, 404, []string{"error"}},
		{"POST", "/api/v1/deadletters/replay", "/api/v1/deadletters/replay", `{"reason":"x","limit":-1}`, adminToken, 400, []string{"error"}},
		{"POST", "/api/v1/deadletters/abandon", "/api/v1/deadletters/abandon", `{"destination":"retired"}`, adminToken, 400, []string{"error"}},
		{"POST", "/api/v1/deadletters/abandon", "/api/v1/deadletters/abandon", `{"reason":"x"}`, adminToken, 400, []string{"error"}},
		{"POST", "/api/v1/deadletters/abandon", "/api/v1/deadletters/abandon", `{"destination":"app","reason":"x"}`, adminToken, 409, []string{"error"}},
	}
	for _, c := range calls {
		t.Run(fmt.Sprintf("%s %s %d", c.method, c.path, c.status), func(t *testing.T) {
			var opts []reqOpt
			if c.token != "" {
				opts = append(opts, bearerAuth(c.token))
			}
			if c.body != "" {
				opts = append(opts, header("Content-Type", "application/json"))
			}
			resp, body := env.do(t, c.method, c.path, strings.NewReader(c.body), opts...)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			doc.conform(t, c.method, c.route, resp, body)
			if c.method == http.MethodPost && c.body != "" {
				doc.requestAgrees(t, c.route, c.body, resp.StatusCode)
			}
			if len(c.has) > 0 {
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatal(err)
				}
				for _, k := range c.has {
					if v, ok := m[k]; !ok || isEmpty(v) {
						t.Errorf("answer has no %s to check: %s", k, body)
					}
				}
			}
		})
	}

	// The raw body comes back byte for byte, with the Content-Type it
	// was received with, as an attachment.
	resp, body := env.get(t, "/api/v1/events/"+id+"/raw", bearerAuth(auditorToken))
	ev, err := env.db.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := env.db.Body(id)
	if err != nil {
		t.Fatal(err)
	}
	if body != string(stored) || resp.Header.Get("Content-Type") != ev.ContentType ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("raw: %q %q, body %q; want %q as an attachment, body %q", resp.Header.Get("Content-Type"),
			resp.Header.Get("Content-Disposition"), body, ev.ContentType, stored)
	}
	// A POST with Basic auth and no CSRF token is refused, in the
	// document's words.
	resp, body = env.do(t, "POST", "/api/v1/events/"+id+"/replay", strings.NewReader(`{"reason":"x"}`), basicAuth(adminToken))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("basic POST without CSRF token: %d %s", resp.StatusCode, body)
	}
	doc.conform(t, "POST", "/api/v1/events/{id}/replay", resp, body)
}

// Over its rate a token gets the documented 429, with Retry-After. The
// limiter's clock stands still, so the second request is always over.
func TestOpenAPIRateLimitAnswer(t *testing.T) {
	doc := loadOpenAPI(t)
	clock := &testClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
	env := startAdmin(t, func(c *admin.Config) { c.ReadRate, c.ReadBurst, c.Now = 0.01, 1, clock.Now })
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		resp, body := env.get(t, "/api/v1/events", bearerAuth(auditorToken))
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s, want %d", i, resp.StatusCode, body, want)
		}
		doc.conform(t, "GET", "/api/v1/events", resp, body)
	}
}

// requestAgrees checks that the document's request schema for the POST
// route takes the body the server took (200) and refuses the body the
// server refused as malformed (400).
func (d *apiDoc) requestAgrees(t *testing.T, route, body string, status int) {
	t.Helper()
	rb, err := d.resolve(d.paths[route]["post"]["requestBody"])
	if err != nil {
		t.Fatalf("POST %s: requestBody: %v", route, err)
	}
	media, _ := rb["content"].(map[string]any)["application/json"].(map[string]any)
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	problems := d.check("request", media["schema"], v, false)
	switch {
	case status == http.StatusOK && len(problems) > 0:
		t.Errorf("POST %s: the server took %s, the document refuses it: %v", route, body, problems)
	case status == http.StatusBadRequest && len(problems) == 0:
		t.Errorf("POST %s: the server refused %s, the document takes it", route, body)
	}
}

// duplicateOf delivers event i again with the same dedup key, as a
// provider's retry would, so that the first one records a sighting.
func (env *adminEnv) duplicateOf(t *testing.T, i int) {
	t.Helper()
	ev, err := env.db.Event(env.ids[i])
	if err != nil {
		t.Fatal(err)
	}
	body, err := env.db.Body(env.ids[i])
	if err != nil {
		t.Fatal(err)
	}
	dup := &inbox.Event{
		Source: ev.Source, Provider: ev.Provider, Type: ev.Type, InterviewID: ev.InterviewID,
		Status: ev.Status, Origin: ev.Origin, ReceivedAt: ev.ReceivedAt.Add(time.Minute), RemoteAddr: "203.0.113.8",
		RequestID: "dup-1", ContentType: ev.ContentType, Body: body, BodySHA256: ev.BodySHA256, BodySize: ev.BodySize,
		DedupKeys: ev.DedupKeys, Destinations: ev.Destinations, Verification: ev.Verification,
	}
	r, err := env.db.Accept(context.Background(), dup)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Duplicate || r.ID != ev.ID {
		t.Fatalf("the copy of %s was not taken for a duplicate: %+v", ev.ID, r)
	}
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// conform checks an answer against the document's response for route
// and its status: the status must be documented, required headers must be
// present and fit their schemas, the media type must be one documented,
// and a JSON (or NDJSON) body must fit the schema.
func (d *apiDoc) conform(t *testing.T, method, route string, resp *http.Response, body string) {
	t.Helper()
	op := d.paths[route][strings.ToLower(method)]
	if op == nil {
		t.Errorf("%s %s is not documented", method, route)
		return
	}
	where := fmt.Sprintf("%s %s %d", method, route, resp.StatusCode)
	rv := op["responses"].(map[string]any)[strconv.Itoa(resp.StatusCode)]
	if rv == nil {
		t.Errorf("%s: status not documented (body %s)", where, body)
		return
	}
	r, err := d.resolve(rv)
	if err != nil {
		t.Fatal(err)
	}
	headers, _ := r["headers"].(map[string]any)
	for name, hv := range headers {
		h, err := d.resolve(hv)
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Header.Values(name)
		if len(got) == 0 {
			if h["required"] == true {
				t.Errorf("%s: no %s header", where, name)
			}
			continue
		}
		var v any = got[0]
		if s, _ := d.resolve(h["schema"]); s["type"] == "integer" {
			n, err := strconv.Atoi(got[0])
			if err != nil {
				t.Errorf("%s: header %s: %q is not an integer", where, name, got[0])
				continue
			}
			v = float64(n)
		}
		for _, p := range d.check("header "+name, h["schema"], v, false) {
			t.Errorf("%s: %s", where, p)
		}
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		return
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Errorf("%s: Content-Type %q: %v", where, resp.Header.Get("Content-Type"), err)
		return
	}
	key := mt
	media, ok := content[key].(map[string]any)
	if !ok {
		key = "*/*"
		media, ok = content[key].(map[string]any)
	}
	if !ok {
		t.Errorf("%s: media type %s not documented", where, mt)
		return
	}
	var problems []string
	switch {
	case key == "application/json":
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("%s: not JSON: %v", where, err)
			return
		}
		problems = d.check("body", media["schema"], v, false)
	case media["x-ndjson-item"] != nil:
		// x-ndjson-last, when given, is the schema of the last line, and
		// x-ndjson-item that of every line before it.
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		if body == "" {
			lines = nil
		}
		for i, line := range lines {
			var v any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Errorf("%s: line %d is not JSON: %v", where, i+1, err)
				return
			}
			schema := media["x-ndjson-item"]
			if last := media["x-ndjson-last"]; last != nil && i == len(lines)-1 {
				schema = last
			}
			problems = append(problems, d.check(fmt.Sprint("line ", i+1), schema, v, false)...)
		}
		if len(lines) == 0 {
			t.Errorf("%s: no lines to check", where)
		}
	}
	for _, p := range problems {
		t.Errorf("%s: %s", where, p)
	}
}

// check returns where v does not fit schema, for the part of JSON Schema
// the document uses: $ref, allOf, type, const, enum, pattern, format
// date-time, minimum, maximum, minLength, maxLength, required, properties,
// additionalProperties and items. Stricter than JSON Schema, an object
// whose schema lists properties may hold no others unless
// additionalProperties allows them, so that a field added to an answer
// fails here until it is documented. partial marks a branch of an allOf,
// whose siblings hold the other properties.
func (d *apiDoc) check(at string, schema any, v any, partial bool) []string {
	s, err := d.resolve(schema)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", at, err)}
	}
	var out []string
	bad := func(format string, a ...any) { out = append(out, at+": "+fmt.Sprintf(format, a...)) }
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			out = append(out, d.check(at, sub, v, true)...)
		}
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch typ := typ.(type) {
		case string:
			types = []string{typ}
		case []any:
			for _, x := range typ {
				types = append(types, fmt.Sprint(x))
			}
		}
		got := jsonType(v)
		if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			bad("%s, want %v", got, types)
			return out
		}
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		bad("%v, want %v", v, c)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		bad("%v is not one of %v", v, enum)
	}
	switch v := v.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			bad("%q does not match %s", v, p)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				bad("%q is not a date-time", v)
			}
		}
		if n, ok := s["minLength"].(int); ok && len(v) < n {
			bad("shorter than %d", n)
		}
		if n, ok := s["maxLength"].(int); ok && len(v) > n {
			bad("longer than %d", n)
		}
	case float64:
		if n, ok := s["minimum"].(int); ok && v < float64(n) {
			bad("%v is below %d", v, n)
		}
		if n, ok := s["maximum"].(int); ok && v > float64(n) {
			bad("%v is above %d", v, n)
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, x := range v {
				out = append(out, d.check(fmt.Sprintf("%s[%d]", at, i), items, x, false)...)
			}
		}
	case map[string]any:
		req, _ := s["required"].([]any)
		for _, k := range req {
			if _, ok := v[fmt.Sprint(k)]; !ok {
				bad("missing required %s", k)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, x := range v {
			if ps, ok := props[k]; ok {
				out = append(out, d.check(at+"."+k, ps, x, false)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					bad("%s is not allowed", k)
				}
			case map[string]any:
				out = append(out, d.check(at+"."+k, ap, x, false)...)
			case nil:
				if !partial && (props != nil || s["allOf"] != nil) && !d.declares(s, k) {
					bad("%s is not in the document", k)
				}
			}
		}
	}
	return out
}

// declares says whether s, or a branch of its allOf, lists property k.
func (d *apiDoc) declares(s map[string]any, k string) bool {
	if props, ok := s["properties"].(map[string]any); ok {
		if _, ok := props[k]; ok {
			return true
		}
	}
	all, _ := s["allOf"].([]any)
	for _, sub := range all {
		if ss, err := d.resolve(sub); err == nil && d.declares(ss, k) {
			return true
		}
	}
	return false
}

// jsonType names v's JSON Schema type; whole numbers are integers.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
