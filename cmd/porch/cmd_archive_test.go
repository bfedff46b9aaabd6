package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// archiveGateway runs the real gateway with five archived events and
// returns its admin URL and their ids, oldest first.
func archiveGateway(t *testing.T) (*Main, string, []string) {
	t.Helper()
	m, _ := startMain(t, testConfig(t.TempDir(), "http://127.0.0.1:9/unused"))
	var ids []string
	for i := range 5 {
		body := fmt.Sprintf(`{"event":"interview.completed","data":{"id":"int-%d"}}`, i%2)
		sum := sha256.Sum256([]byte(body))
		r, err := m.DB.Accept(context.Background(), &inbox.Event{
			Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: fmt.Sprint("int-", i%2),
			Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
			ContentType: "application/json", Body: []byte(body), BodySHA256: hex.EncodeToString(sum[:]),
			BodySize: len(body), DedupKeys: []string{fmt.Sprint("k", i)}, Verification: inbox.Verification{Mode: "raw"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return m, "http://" + m.Admin.Addr(), ids
}

// clientArgs is the client flags parsed from args.
func clientArgs(t *testing.T, args ...string) *clientOpts {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	co := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return co
}

func archiveCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runArchive(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestArchiveCLI(t *testing.T) {
	m, url, ids := archiveGateway(t)
	t.Setenv("PORCH_AUDITOR_TOKEN", testAuditToken)
	t.Setenv("PORCH_ADMIN_TOKEN", "")
	au := []string{"--admin-url", url}

	code, out, errs := archiveCmd(append([]string{"ls", "--interview", "int-1"}, au...)...)
	if code != 0 || !strings.Contains(out, ids[3]) || !strings.Contains(out, ids[1]) || strings.Contains(out, ids[0]) {
		t.Errorf("ls: %d\n%s%s", code, out, errs)
	}
	code, _, errs = archiveCmd(append([]string{"ls", "--limit", "2"}, au...)...)
	if want := "more: porch archive ls --admin-url " + url + " --cursor " + ids[3] + " (same filters)"; code != 0 || !strings.Contains(errs, want) {
		t.Errorf("ls --limit 2: %d %q, want the next page's command %q", code, errs, want)
	}
	// The gateway's own config names its admin listener and tokens.
	cfg := filepath.Join(t.TempDir(), "porch.yaml")
	text := strings.Replace(testConfig(t.TempDir(), "http://127.0.0.1:9/unused"), `admin_listen: "127.0.0.1:0"`, `admin_listen: "`+strings.TrimPrefix(url, "http://")+`"`, 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PORCH_AUDITOR_TOKEN", "")
	code, _, errs = archiveCmd("ls", "--config", cfg, "--limit", "2")
	if want := "more: porch archive ls --config " + cfg + " --cursor " + ids[3] + " (same filters)"; code != 0 || !strings.Contains(errs, want) {
		t.Errorf("ls --config: %d %q, want the next page's command %q", code, errs, want)
	}
	if code, _, errs = archiveCmd("ls", "--config", cfg, "--admin-url", "http://127.0.0.1:9"); code != 1 || !strings.Contains(errs, "127.0.0.1:9") {
		t.Errorf("--admin-url beside --config: %d %q, want it to win", code, errs)
	}
	if code, _, errs = archiveCmd("ls", "--config", cfg, "--token", "wrong"); code != 1 || !strings.Contains(errs, "401") {
		t.Errorf("--token beside --config: %d %q, want it to win", code, errs)
	}
	// An action takes the config's admin token, not its auditor token.
	if code, out, errs := cli(runReplay, ids[0], "--reason", "check", "--config", cfg); code != 0 || !strings.Contains(out, ids[0]) {
		t.Errorf("replay --config: %d %q %q", code, out, errs)
	}
	t.Setenv("PORCH_AUDITOR_TOKEN", testAuditToken)
	code, out, errs = archiveCmd(append([]string{"ls", "--limit", "2", "--json"}, au...)...)
	if code != 0 || !strings.Contains(out, `"next_cursor": "`+ids[3]+`"`) {
		t.Errorf("ls --json: %d\n%s%s", code, out, errs)
	}
	code, out, _ = archiveCmd(append([]string{"show", ids[2]}, au...)...)
	if code != 0 || !strings.Contains(out, `"id": "`+ids[2]+`"`) || !strings.Contains(out, `"sightings"`) {
		t.Errorf("show: %d\n%s", code, out)
	}
	dir := t.TempDir()
	rawFile := filepath.Join(dir, "raw.json")
	if code, _, errs := archiveCmd(append([]string{"raw", ids[2], "--out", rawFile}, au...)...); code != 0 {
		t.Fatalf("raw: %s", errs)
	}
	want, _ := m.DB.Body(ids[2])
	if got, _ := os.ReadFile(rawFile); !bytes.Equal(got, want) {
		t.Errorf("raw = %q, want %q", got, want)
	}
	if code, out, _ := archiveCmd(append([]string{"verify"}, au...)...); code != 0 || !strings.Contains(out, "ok: 5 events verified") {
		t.Errorf("verify: %d %s", code, out)
	}

	export := filepath.Join(dir, "export.ndjson")
	if code, _, errs := archiveCmd(append([]string{"export", "--out", export}, au...)...); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	// Offline: no gateway, no token.
	t.Setenv("PORCH_AUDITOR_TOKEN", "")
	if code, out, errs := archiveCmd("verify", "--file", export); code != 0 || !strings.Contains(out, "ok: 5 events verified") {
		t.Errorf("verify --file: %d %s %s", code, out, errs)
	}
	b, _ := os.ReadFile(export)
	// Alter one chained field on line 3: the break is named there.
	bad := strings.Split(string(b), "\n")
	bad[2] = strings.Replace(bad[2], `"interview_id":"int-0"`, `"interview_id":"int-7"`, 1)
	badFile := filepath.Join(dir, "bad.ndjson")
	_ = os.WriteFile(badFile, []byte(strings.Join(bad, "\n")), 0o600)
	code, _, errs = archiveCmd("verify", "--file", badFile)
	if code != 1 || !strings.Contains(errs, "BROKEN at line 3, event "+ids[2]+" (seq 3)") {
		t.Errorf("tampered export: %d %s", code, errs)
	}
}

func TestArchiveCLIErrors(t *testing.T) {
	_, url, _ := archiveGateway(t)
	t.Setenv("PORCH_AUDITOR_TOKEN", "")
	t.Setenv("PORCH_ADMIN_TOKEN", "")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "Usage: porch archive"},
		{[]string{"nope"}, 2, `unknown subcommand "nope"`},
		{[]string{"ls", "--admin-url", url}, 2, "no token"},
		{[]string{"ls", "--admin-url", url, "--token", "wrong"}, 1, "401"},
		{[]string{"ls", "--admin-url", url, "--token", testAuditToken, "--since", "yesterday"}, 2, "--since: "},
		{[]string{"show", "--admin-url", url, "--token", testAuditToken}, 2, "event id is required"},
		{[]string{"show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--admin-url", url, "--token", testAuditToken}, 1, "404"},
		{[]string{"ls", "--bogus"}, 2, "bogus"},
		{[]string{"ls", "--admin-url", "ftp://x", "--token", "t"}, 2, "--admin-url"},
		{[]string{"verify", "--file", "/nonexistent/export.ndjson"}, 2, "--file: "},
	}
	for _, c := range cases {
		code, _, errs := archiveCmd(c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: %d %q; want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
	if code, _, _ := archiveCmd("ls", "--help"); code != 0 {
		t.Errorf("--help: %d", code)
	}
}

func TestTailWriterFindsTheEndLine(t *testing.T) {
	rec := `{"id":"01J","seq":1,"body":"e30="}` + "\n"
	end := `{"export_end":{"records":1,"last_seq":1,"last_hash":"ab"}}` + "\n"
	for _, c := range []struct {
		name   string
		writes []string
		want   bool
	}{
		{"whole", []string{rec, end}, true},
		{"end line in pieces", []string{rec, end[:5], end[5:]}, true},
		{"no trailing newline", []string{rec, strings.TrimSuffix(end, "\n")}, true},
		{"cut after a record", []string{rec, rec}, false},
		{"cut inside the end line", []string{rec, end[:10]}, false},
		{"nothing", nil, false},
		{"long records before the end", []string{strings.Repeat(rec, 500), end}, true},
		{"end line not last", []string{end, rec}, false},
		{"end line cut short", []string{rec, `{"export_end":{"rec` + "\n"}, false},
	} {
		var tw tailWriter
		for _, w := range c.writes {
			_, _ = tw.Write([]byte(w))
		}
		if got := tw.endsExport(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
