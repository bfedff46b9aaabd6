package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox"
)

// An operator removes a destination with deliveries still pending,
// restarts, and abandons them: they become dead letters, listed by
// `deadletters ls`, and no longer pending; the destination still
// configured is refused, and a second run finds nothing left.
func TestDeadLettersAbandonCLI(t *testing.T) {
	_, sinkURL := newRecordingSink(t, http.StatusServiceUnavailable) // every attempt fails and is retried
	dir := t.TempDir()
	yaml := testConfigPaths(dir, sinkURL)
	m, stop := startMain(t, yaml)
	ids := deliverEach(t, m.Gateway.Addr(), "iv-a", "iv-b")
	stop()

	// koji-only is removed from the config.
	i := strings.Index(yaml, "  - name: koji-only")
	j := strings.Index(yaml, "auth:")
	m, _ = startMain(t, yaml[:i]+yaml[j:])
	admin := []string{"--admin-url", "http://" + m.Admin.Addr()}
	t.Setenv("PORCH_ADMIN_TOKEN", testAdminToken)
	t.Setenv("PORCH_AUDITOR_TOKEN", "")
	if st, err := m.DB.OutboxStats(); err != nil || st["koji-only"].Depth != 2 {
		t.Fatalf("pending for koji-only after the restart: %+v, %v", st, err)
	}

	for _, c := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{[]string{"--destination", "app", "--reason", "oops"}, 1, "", `409 destination "app" is configured on this node`},
		{[]string{"--destination", "koji-only", "--reason", "app decommissioned"}, 0, "dead-lettered 2 deliveries to removed destination koji-only\n", ""},
		{[]string{"--destination", "koji-only", "--reason", "app decommissioned"}, 0, "dead-lettered 0 deliveries to removed destination koji-only (none was pending: is the name the one the config had?)\n", ""},
	} {
		code, out, errs := cli(runDeadLetters, append(append([]string{"abandon"}, c.args...), admin...)...)
		if code != c.code || out != c.out || !strings.Contains(errs, c.errOut) || (c.errOut == "") != (errs == "") {
			t.Errorf("abandon %v: %d %q %q; want %d %q %q", c.args, code, out, errs, c.code, c.out, c.errOut)
		}
	}
	code, out, errs := cli(runDeadLetters, append([]string{"ls", "--destination", "koji-only"}, admin...)...)
	if code != 0 || !strings.Contains(out, ids[0]) || !strings.Contains(out, ids[1]) || !strings.Contains(out, "app decommissioned") ||
		!strings.Contains(errs, "2 dead letter(s)") {
		t.Errorf("ls: %d\n%s%s", code, out, errs)
	}
	if st, err := m.DB.OutboxStats(); err != nil || st["koji-only"].Depth != 0 || st["app"].Depth != 2 {
		t.Errorf("pending after the abandon: %+v, %v; want none for koji-only, app's 2", st, err)
	}
	if dl, err := m.DB.DeadLetters(inbox.DeadLetterFilter{Destination: "app"}); err != nil || len(dl) != 0 {
		t.Errorf("app's dead letters: %+v, %v", dl, err)
	}
	dl, err := m.DB.DeadLetters(inbox.DeadLetterFilter{Destination: "koji-only"})
	if err != nil || len(dl) != 2 || dl[0].Reason != "app decommissioned" || dl[1].Reason != "app decommissioned" {
		t.Errorf("koji-only's dead letters: %+v, %v; want 2 with the reason given", dl, err)
	}
}

// Usage errors exit 2 before anything is sent; a token of too low a
// role exits 1 with the listener's answer.
func TestDeadLettersAbandonCLIErrors(t *testing.T) {
	m, _ := startMain(t, testConfig(t.TempDir(), "http://127.0.0.1:9/unused"))
	url := "http://" + m.Admin.Addr()
	t.Setenv("PORCH_ADMIN_TOKEN", "")
	t.Setenv("PORCH_AUDITOR_TOKEN", testAuditToken)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--reason", "x", "--admin-url", url, "--token", testAdminToken}, 2, "--destination is required"},
		{[]string{"--destination", " ", "--reason", "x", "--admin-url", url, "--token", testAdminToken}, 2, "--destination is required"},
		{[]string{"--destination", "gone", "--admin-url", url, "--token", testAdminToken}, 2, "--reason is required"},
		{[]string{"--destination", "gone", "--reason", "x", "--admin-url", url}, 2, "PORCH_ADMIN_TOKEN"},
		{[]string{"--destination", "gone", "--reason", "x", "--admin-url", "nowhere", "--token", testAdminToken}, 2, "--admin-url"},
		{[]string{"--destination", "gone", "--reason", "x", "extra", "--admin-url", url, "--token", testAdminToken}, 2, "unexpected argument"},
		{[]string{"--destination", "gone", "--reason", "x", "--admin-url", url, "--token", testAuditToken}, 1, "403"},
	} {
		code, out, errs := cli(runDeadLetters, append([]string{"abandon"}, c.args...)...)
		if code != c.code || out != "" || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: %d %q %q; want %d and %q", c.args, code, out, errs, c.code, c.msg)
		}
	}
}

func TestAbandonSummary(t *testing.T) {
	for _, c := range []struct {
		n, leased int
		want      string
	}{
		{12, 0, "dead-lettered 12 deliveries to removed destination app"},
		{1, 0, "dead-lettered 1 delivery to removed destination app"},
		{12, 3, "dead-lettered 12 deliveries to removed destination app (3 still leased by a node; run again once their lease passes)"},
		{0, 1, "dead-lettered 0 deliveries to removed destination app (1 still leased by a node; run again once their lease passes)"},
		{0, 0, "dead-lettered 0 deliveries to removed destination app (none was pending: is the name the one the config had?)"},
	} {
		if got := abandonSummary("app", c.n, c.leased); got != c.want {
			t.Errorf("%d, %d leased: %q, want %q", c.n, c.leased, got, c.want)
		}
	}
}
