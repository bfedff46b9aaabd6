package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	restored := filepath.Join(dir, "restored")
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
	db, err := inboxbadger.Open(inboxbadger.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Accept(context.Background(), &inbox.Event{Source: "koji", Provider: "koji", Type: "t",
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(), Body: []byte("{}"), DedupKeys: []string{"k"}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
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
	if _, err := rdb.Event(res.ID); err != nil {
		t.Fatalf("event after restore: %v", err)
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
