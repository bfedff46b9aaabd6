package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/metrics"
)

// trailRoute is how to call one admin route and what it must leave on the
// access trail: action "" means the route shows no archived data and acts
// on nothing (health, metrics, static files), so it leaves no entry.
type trailRoute struct {
	path, body string
	form       bool // body is a browser's form
	token      string
	action     string
}

// startFullAdmin runs an admin listener with every optional route on.
func startFullAdmin(t *testing.T, opt badger.Options, opts ...adminOpt) *adminEnv {
	t.Helper()
	return startAdminStore(t, opt, func(db *badger.DB, c *admin.Config) {
		for _, o := range opts {
			o(c)
		}
		c.Backup = db.Backup
		c.Reload = func(context.Context) (admin.ReloadResult, error) { return admin.ReloadResult{}, nil }
		reg := metrics.New()
		if err := reg.Register(metrics.NewTrailCollector(db.TrailDropped)); err != nil {
			t.Fatal(err)
		}
		c.Metrics = reg.Handler()
	})
}

// Every registered admin route that reads archived data or acts is on the
// access trail. The table must name every route: one added without a row
// fails here until someone decides what it records.
func TestEveryAdminRouteIsTrailed(t *testing.T) {
	env := startFullAdmin(t, badger.Options{}, func(c *admin.Config) { c.Destinations = func() []string { return []string{"app"} } })
	id := env.ids[1]
	env.deadLetter(t, env.ids[3])
	const reason = `{"reason":"route walk"}`
	table := map[string]trailRoute{
		"GET /healthz":                     {path: "/healthz"},
		"GET /readyz":                      {path: "/readyz"},
		"HEAD /readyz":                     {path: "/readyz"},
		"GET /metrics":                     {path: "/metrics"},
		"GET /ui/static/":                  {path: "/ui/static/style.css", token: auditorToken},
		"GET /api/v1/events/{id}":          {path: "/api/v1/events/" + id, token: auditorToken, action: "view"},
		"GET /api/v1/events/{id}/raw":      {path: "/api/v1/events/" + id + "/raw", token: auditorToken, action: "raw"},
		"GET /api/v1/rejections":           {path: "/api/v1/rejections", token: auditorToken, action: "rejections"},
		"GET /api/v1/events":               {path: "/api/v1/events", token: auditorToken, action: "search"},
		"GET /api/v1/export":               {path: "/api/v1/export", token: auditorToken, action: "export"},
		"GET /api/v1/archive/verify":       {path: "/api/v1/archive/verify", token: auditorToken, action: "verify"},
		"GET /api/v1/access":               {path: "/api/v1/access", token: adminToken, action: "trail"},
		"POST /api/v1/events/{id}/replay":  {path: "/api/v1/events/" + id + "/replay", body: reason, token: adminToken, action: "replay"},
		"GET /api/v1/deadletters":          {path: "/api/v1/deadletters", token: auditorToken, action: "deadletters"},
		"POST /api/v1/deadletters/replay":  {path: "/api/v1/deadletters/replay", body: reason, token: adminToken, action: "replay"},
		"POST /api/v1/deadletters/abandon": {path: "/api/v1/deadletters/abandon", body: `{"destination":"retired","reason":"route walk"}`, token: adminToken, action: "abandon"},
		"POST /api/v1/reload":              {path: "/api/v1/reload", token: adminToken, action: "reload"},
		"GET /api/v1/backup":               {path: "/api/v1/backup", token: adminToken, action: "backup"},
		"GET /":                            {path: "/", token: auditorToken, action: "search"},
		"GET /ui/events/{id}":              {path: "/ui/events/" + id, token: auditorToken, action: "view"},
		"GET /ui/events/{id}/raw":          {path: "/ui/events/" + id + "/raw", token: auditorToken, action: "raw"},
		"POST /ui/events/{id}/replay":      {path: "/ui/events/" + id + "/replay", token: adminToken, action: "replay"},
		"POST /ui/deadletters/abandon":     {path: "/ui/deadletters/abandon", body: "destination=retired&reason=route+walk", form: true, token: adminToken, action: "abandon"},
		"GET /ui/deadletters":              {path: "/ui/deadletters", token: auditorToken, action: "deadletters"},
		"GET /ui/rejections":               {path: "/ui/rejections", token: auditorToken, action: "rejections"},
		"GET /ui/access":                   {path: "/ui/access", token: adminToken, action: "trail"},
		"GET /ui/verify":                   {path: "/ui/verify", token: auditorToken, action: "verify"},
		"GET /ui/export":                   {path: "/ui/export?source=koji", token: auditorToken, action: "export"},
		"GET /debug/pprof/cmdline":         {path: "/debug/pprof/cmdline", token: adminToken, action: "debug"},
		"GET /debug/pprof/profile":         {path: "/debug/pprof/profile?seconds=1", token: adminToken, action: "debug"},
		"GET /debug/pprof/symbol":          {path: "/debug/pprof/symbol", token: adminToken, action: "debug"},
		"POST /debug/pprof/symbol":         {path: "/debug/pprof/symbol", token: adminToken, action: "debug"},
		"GET /debug/pprof/trace":           {path: "/debug/pprof/trace?seconds=1", token: adminToken, action: "debug"},
		"GET /debug/pprof/":                {path: "/debug/pprof/", token: adminToken, action: "debug"},
	}
	routes := admin.Routes(env.admin)
	if len(routes) < len(table) {
		t.Errorf("walked %d routes, the table has %d: %v", len(routes), len(table), routes)
	}
	for _, route := range routes {
		c, ok := table[route]
		if !ok {
			t.Errorf("%s: no row in the table; say what it leaves on the access trail", route)
			continue
		}
		t.Run(route, func(t *testing.T) {
			before := newestSeq(t, env.db)
			method := strings.Fields(route)[0]
			var opts []reqOpt
			if c.token != "" {
				opts = append(opts, bearerAuth(c.token))
			}
			if c.form {
				opts = append(opts, header("Content-Type", "application/x-www-form-urlencoded"))
			}
			resp, body := env.do(t, method, c.path, strings.NewReader(c.body), opts...)
			if resp.StatusCode >= 400 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			list, err := env.db.AccessTrail(0, 1)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.action == "" && newestSeq(t, env.db) != before:
				t.Errorf("left a trail entry %+v", list[0])
			case c.action != "" && (newestSeq(t, env.db) == before || list[0].Action != c.action):
				t.Errorf("trail after the call: %+v, want a new %q entry", list, c.action)
			case c.action != "" && list[0].Token != admin.TokenFingerprint(c.token):
				t.Errorf("entry names token %q", list[0].Token)
			}
		})
	}
}

func newestSeq(t *testing.T, db *badger.DB) uint64 {
	t.Helper()
	list, err := db.AccessTrail(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		return 0
	}
	return list[0].Seq
}
