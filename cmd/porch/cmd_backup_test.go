package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	inboxbadger "github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/sender"
)

// TestBackupThroughAdminAPIAndRestore: deliveries into a running gateway,
// `porch backup` through its admin API while it runs, `porch restore`
// into a new dir, and every event is found there with its exact body and
// a verifying chain.
func TestBackupThroughAdminAPIAndRestore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	bodies := map[string][]byte{}
	def, _ := gateway.Lookup("koji")
	for i := range 30 {
		body := sender.Sample(def.Name, "interview.completed", fmt.Sprintf("int-%d", i), time.Now())
		id := postSigned(t, m.Gateway.Addr(), body, sender.Sign(def.Name, body, "s1", time.Now()))
		bodies[id] = body
	}

	out := filepath.Join(dir, "porch.backup")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backup", "--out", out, "--config", path, "--admin-url", "http://" + m.Admin.Addr()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("backup exit %d: %s", code, stderr.String())
	}
	// The online backup is framed like the offline one: cut, it is refused.
	cut := filepath.Join(dir, "cut.backup")
	if b, err := os.ReadFile(out); err != nil || !bytes.HasPrefix(b, []byte("porch-badger-backup 2\n")) {
		t.Fatalf("online backup does not start with porch's header (%v)", err)
	} else if err := os.WriteFile(cut, b[:len(b)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(dir, "restored")
	if code := run(context.Background(), []string{"restore", "--in", cut, "--data-dir", restored}, &stdout, &stderr); code != 1 {
		t.Fatalf("restore of a cut online backup: exit %d, want 1", code)
	}
	if code := run(context.Background(), []string{"restore", "--in", out, "--data-dir", restored}, &stdout, &stderr); code != 0 {
		t.Fatalf("restore exit %d: %s", code, stderr.String())
	}
	if code := run(context.Background(), []string{"restore", "--in", out, "--data-dir", restored}, &stdout, &stderr); code != 2 {
		t.Fatalf("restore into a non-empty dir: exit %d, want 2", code)
	}

	db, err := inboxbadger.Open(inboxbadger.Options{Dir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	byHash := map[string]*inbox.Event{}
	var head *inbox.Event
	for id, want := range bodies {
		ev, err := db.Event(id)
		if err != nil {
			t.Fatalf("event %s missing after restore: %v", id, err)
		}
		got, err := db.Body(id)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("body %s differs after restore (%v)", id, err)
		}
		if ev.Hash != inbox.ChainHash(ev) {
			t.Errorf("event %s: hash does not verify", id)
		}
		byHash[ev.Hash] = ev
		if head == nil || ev.Seq > head.Seq {
			head = ev
		}
	}
	links := 0
	for h := head.Hash; h != inbox.GenesisHash; links++ {
		ev, ok := byHash[h]
		if !ok {
			t.Fatalf("chain broken after %d links", links)
		}
		h = ev.PrevHash
	}
	if links != len(bodies) {
		t.Errorf("chain has %d links, want %d", links, len(bodies))
	}
}

func TestBackupRefusals(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"backup"},
		{"backup", "--out", "x"},
		{"backup", "--out", "x", "--admin-url", "http://127.0.0.1:1"}, // no token
		{"restore", "--in", "x"},
	} {
		t.Setenv("PORCH_ADMIN_TOKEN", "")
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestBackupWrongTokenLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	writeConfig(t, path, opsConfig(filepath.Join(dir, "data"), `["s1"]`, ""))
	m := startFromFile(t, path)
	out := filepath.Join(dir, "b")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backup", "--out", out, "--admin-url", "http://" + m.Admin.Addr(), "--token", "ops-auditor-token"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "403") {
		t.Fatalf("auditor backup: exit %d, %s", code, stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed backup left %s behind", out)
	}
}

func TestBackupFromStoppedDataDir(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	id := storeWithEvent(t, data)
	out := filepath.Join(dir, "b")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--out", out, "--data-dir", data}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup exit %d: %s", code, stderr.String())
	}
	restored := filepath.Join(dir, "r")
	if code := run(context.Background(), []string{"restore", "--in", out, "--data-dir", restored}, &stdout, &stderr); code != 0 {
		t.Fatalf("restore exit %d: %s", code, stderr.String())
	}
	rdb, err := inboxbadger.Open(inboxbadger.Options{Dir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if _, err := rdb.Event(id); err != nil {
		t.Fatalf("event after restore: %v", err)
	}
}

// storeWithEvent creates a store in dir holding one event, closes it,
// and returns the event's id.
func storeWithEvent(t *testing.T, dir string) string {
	t.Helper()
	db, err := inboxbadger.Open(inboxbadger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Accept(context.Background(), &inbox.Event{Source: "koji", Provider: "koji", Type: "t",
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: []byte("{}"), DedupKeys: []string{"k"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

// porch restore refuses an empty, cut or foreign file with exit 1, a
// message saying which, and nothing left in --data-dir, so the same
// directory takes a whole backup next.
func TestRestoreRefusesWhatIsNotAWholeBackup(t *testing.T) {
	dir := t.TempDir()
	out, whole, _ := wholeBackup(t, dir)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "backup incomplete or damaged: the file is empty; nothing was restored"},
		{"cut", whole[:213], "backup incomplete or damaged: it ends without its trailer"},
		{"yaml", []byte(testConfig(dir, "http://127.0.0.1:9/x")), "not a porch backup: it does not start with"},
	} {
		in := filepath.Join(dir, tc.name+".backup")
		if err := os.WriteFile(in, tc.in, 0o600); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, "restored-"+tc.name)
		code, stdout, stderr := porchCmd("restore", "--in", in, "--data-dir", target)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 1 and %q", tc.name, code, stdout, stderr, tc.want)
		}
		if _, err := os.Stat(target); !os.IsNotExist(err) {
			t.Errorf("%s: a refused restore left %s behind (%v)", tc.name, target, err)
		}
		if code, _, errs := porchCmd("restore", "--in", out, "--data-dir", target); code != 0 {
			t.Errorf("%s: whole backup into the same directory: exit %d: %s", tc.name, code, errs)
		}
	}
}

// A file without porch's header is refused with the way to restore an
// unframed backup; --legacy restores one, and answers a file that is no
// backup at all with an error, not a panic, leaving nothing behind.
func TestRestoreLegacy(t *testing.T) {
	dir := t.TempDir()
	_, whole, id := wholeBackup(t, dir)
	bare := filepath.Join(dir, "bare.backup") // as porch wrote backups before they were framed
	stream := whole[bytes.IndexByte(whole, '\n')+1 : bytes.LastIndex(whole, []byte("porch-badger-backup-end "))]
	if err := os.WriteFile(bare, stream, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := porchCmd("restore", "--in", bare, "--data-dir", filepath.Join(dir, "r1")); code != 1 || !strings.Contains(errs, "restore it with --legacy") {
		t.Fatalf("unframed backup without --legacy: exit %d, %s", code, errs)
	}
	if code, _, errs := porchCmd("restore", "--legacy", "--in", bare, "--data-dir", filepath.Join(dir, "r1")); code != 0 {
		t.Fatalf("--legacy: exit %d, %s", code, errs)
	}
	db, err := inboxbadger.Open(inboxbadger.Options{Dir: filepath.Join(dir, "r1")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Event(id); err != nil {
		t.Fatalf("event after --legacy restore: %v", err)
	}
	yaml := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(yaml, []byte(testConfig(dir, "http://127.0.0.1:9/x")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := porchCmd("restore", "--legacy", "--in", yaml, "--data-dir", filepath.Join(dir, "r2"))
	if code != 1 || !strings.Contains(errs, "backup incomplete or damaged") {
		t.Errorf("--legacy on a config file: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "r2")); !os.IsNotExist(err) {
		t.Errorf("--legacy on a config file left r2 behind (%v)", err)
	}
}

// porch backup --data-dir on a directory holding no store refuses it
// and leaves it as it was, instead of creating a store there and
// "backing up" that.
func TestBackupDataDirWithoutStore(t *testing.T) {
	empty := t.TempDir()
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{empty, other} {
		before, _ := os.ReadDir(dir)
		out := filepath.Join(t.TempDir(), "b")
		code, _, errs := porchCmd("backup", "--out", out, "--data-dir", dir)
		want := "porch backup: --data-dir: " + dir + " is not a porch data directory"
		if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "pg_dump") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", dir, code, errs, want)
		}
		if after, _ := os.ReadDir(dir); len(after) != len(before) {
			t.Errorf("%s: %d entries after a refused backup, want %d", dir, len(after), len(before))
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: a refused backup wrote %s", dir, out)
		}
	}
}

// A gateway on PostgreSQL answers a backup request 501, naming pg_dump:
// the command says so in words, not as the API's JSON.
func TestBackupOfPostgresGatewaySaysPgDump(t *testing.T) {
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte(`{"error":"back up the database with pg_dump, e.g. pg_dump --format=custom","request_id":"r1"}`))
	}))
	defer gw.Close()
	out := filepath.Join(t.TempDir(), "b")
	code, _, errs := porchCmd("backup", "--out", out, "--admin-url", gw.URL, "--token", "t")
	if code != 1 || !strings.Contains(errs, "the gateway keeps its data in PostgreSQL, which porch does not back up: back up the database with pg_dump") || strings.Contains(errs, `{"error"`) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused backup wrote %s", out)
	}
}

// postSigned delivers body to the koji source and returns the event id.
func postSigned(t *testing.T, addr string, body []byte, h http.Header) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/in/koji", bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || a.ID == "" {
		t.Fatalf("delivery: %d %v", resp.StatusCode, err)
	}
	return a.ID
}

// wholeBackup writes a store with one event in dir/data and its offline
// backup to dir/whole.backup, and returns the backup's path and bytes and
// the event's id.
func wholeBackup(t *testing.T, dir string) (out string, whole []byte, id string) {
	t.Helper()
	id = storeWithEvent(t, filepath.Join(dir, "data"))
	out = filepath.Join(dir, "whole.backup")
	if code, _, errs := porchCmd("backup", "--out", out, "--data-dir", filepath.Join(dir, "data")); code != 0 {
		t.Fatalf("backup exit %d: %s", code, errs)
	}
	whole, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return out, whole, id
}

// --out - is refused: a backup goes to a file, renamed into place whole,
// and no file named "-" is written.
func TestBackupOutStdoutRefused(t *testing.T) {
	dir := t.TempDir()
	storeWithEvent(t, filepath.Join(dir, "data"))
	t.Chdir(dir)
	code, _, stderr := porchCmd("backup", "--out", "-", "--data-dir", filepath.Join(dir, "data"))
	if code != 2 || !strings.Contains(stderr, "--out: - (standard output) is not supported") {
		t.Errorf("backup --out -: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); !os.IsNotExist(err) {
		t.Errorf("a file named - was written (%v)", err)
	}
}
