package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	inboxbadger "github.com/porchgw/porch/inbox/badger"
)

// TestAdminErrorsSayWhatToDo runs the admin commands against the real
// gateway with the wrong tokens, and against a port nothing listens on.
func TestAdminErrorsSayWhatToDo(t *testing.T) {
	m, _ := startMain(t, testConfig(t.TempDir(), "http://127.0.0.1:9/unused"))
	admin := "http://" + m.Admin.Addr()
	closed := "http://" + freeAddr(t)
	t.Setenv("PORCH_ADMIN_TOKEN", "")
	t.Setenv("PORCH_AUDITOR_TOKEN", "")
	for _, tt := range []struct {
		env  string // PORCH_AUDITOR_TOKEN, when not empty
		args []string
		want string
	}{
		{"", []string{"archive", "ls", "--admin-url", closed, "--token", "t"},
			"is `porch serve` running at " + closed + "? (--admin-url)"},
		{"", []string{"deadletters", "ls", "--admin-url", closed, "--token", "t"},
			"is `porch serve` running at " + closed + "? (--admin-url)"},
		{"", []string{"backup", "--out", filepath.Join(t.TempDir(), "b"), "--admin-url", closed, "--token", "t"},
			"is `porch serve` running at " + closed + "?"},
		{"", []string{"archive", "ls", "--admin-url", admin, "--token", "wrong"},
			"the gateway does not know the token from --token: pass --token or set PORCH_AUDITOR_TOKEN or PORCH_ADMIN_TOKEN"},
		{"wrong", []string{"archive", "ls", "--admin-url", admin},
			"the gateway does not know the token from $PORCH_AUDITOR_TOKEN"},
		{"", []string{"replay", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--reason", "r", "--admin-url", admin, "--token", "wrong"},
			"pass --token or set PORCH_ADMIN_TOKEN to one of its auth.admin_tokens"},
		{"", []string{"replay", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--reason", "r", "--admin-url", admin, "--token", testAuditToken},
			"this needs an admin token: pass --token or set PORCH_ADMIN_TOKEN"},
		{"", []string{"backup", "--out", filepath.Join(t.TempDir(), "b"), "--admin-url", admin, "--token", testAuditToken},
			"a backup needs an admin token: pass --token or set PORCH_ADMIN_TOKEN"},
	} {
		t.Setenv("PORCH_AUDITOR_TOKEN", tt.env)
		code, _, errs := porchCmd(tt.args...)
		if code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("porch %s: exit %d, stderr %q; want 1 and %q", strings.Join(tt.args, " "), code, errs, tt.want)
		}
	}
}

// TestDataDirInUse opens one data directory twice, as a second porch
// would, and runs serve, backup --data-dir and restore on it.
func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	db, err := inboxbadger.Open(inboxbadger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = inboxbadger.Open(inboxbadger.Options{Dir: dir})
	if err == nil {
		t.Fatal("a second Open of a data directory in use succeeded")
	}
	want := "another porch is using " + dir
	if got := dataDirError(dir, err, "stop it").Error(); got != want+"; stop it" {
		t.Errorf("second Open: %q, want %q", got, want+"; stop it")
	}

	cfg := filepath.Join(t.TempDir(), "porch.yaml")
	if err := os.WriteFile(cfg, []byte(testConfig(dir, "http://127.0.0.1:9/unused")), 0o600); err != nil {
		t.Fatal(err)
	}
	backupIn := filepath.Join(t.TempDir(), "in.bak")
	if err := os.WriteFile(backupIn, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--config", cfg},
		{"backup", "--out", filepath.Join(t.TempDir(), "b"), "--data-dir", dir},
		{"restore", "--in", backupIn, "--data-dir", dir},
	} {
		code, _, errs := porchCmd(args...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("porch %s: exit %d, stderr %q; want 1 and %q", args[0], code, errs, want)
		}
	}
	// With the first store closed, the directory is free again.
	db.Close()
	if got := dataDirError(dir, io.EOF, "stop it"); got != io.EOF {
		t.Errorf("a free directory: %v, want the error unchanged", got)
	}
}
