package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// startOpsAdmin runs an admin listener with backup and reload hooks.
func startOpsAdmin(t *testing.T, cfg admin.Config) string {
	t.Helper()
	db, err := badger.Open(badger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.AdminTokens, cfg.AuditorTokens = "127.0.0.1:0", []string{"adm"}, []string{"aud"}
	a, err := admin.New(cfg, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return "http://" + a.Addr()
}

func opsCall(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "read: " + err.Error()
	}
	return resp.StatusCode, string(b)
}

func TestAdminBackupRoute(t *testing.T) {
	var fail atomic.Bool
	base := startOpsAdmin(t, admin.Config{Backup: func(w io.Writer) error {
		if fail.Load() {
			return errors.New("disk on fire")
		}
		_, err := io.WriteString(w, "BACKUP")
		return err
	}})
	if code, body := opsCall(t, http.MethodGet, base+"/api/v1/backup", "adm"); code != 200 || body != "BACKUP" {
		t.Fatalf("admin backup = %d %q", code, body)
	}
	if code, _ := opsCall(t, http.MethodGet, base+"/api/v1/backup", "aud"); code != http.StatusForbidden {
		t.Fatalf("auditor backup = %d, want 403", code)
	}
	fail.Store(true)
	if code, body := opsCall(t, http.MethodGet, base+"/api/v1/backup", "adm"); code != 500 || body == "" {
		t.Fatalf("failed backup = %d %q, want a 500 JSON error", code, body)
	}
}

func TestAdminReloadRoute(t *testing.T) {
	var refuse atomic.Bool
	base := startOpsAdmin(t, admin.Config{Reload: func(context.Context) (admin.ReloadResult, error) {
		if refuse.Load() {
			return admin.ReloadResult{}, errors.Join(admin.ErrInvalidConfig, errors.New("config: sources[0].secrets[0]: must not be empty"))
		}
		return admin.ReloadResult{RestartRequired: []string{"listen"}}, nil
	}})
	if code, body := opsCall(t, http.MethodPost, base+"/api/v1/reload", "adm"); code != 200 || body != `{"reloaded":true,"restart_required":["listen"]}`+"\n" {
		t.Fatalf("reload = %d %s", code, body)
	}
	refuse.Store(true)
	if code, body := opsCall(t, http.MethodPost, base+"/api/v1/reload", "adm"); code != 422 {
		t.Fatalf("bad reload = %d %s, want 422", code, body)
	}
	if code, _ := opsCall(t, http.MethodGet, base+"/api/v1/reload", "adm"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET reload = %d, want 405", code)
	}
}

// A store whose backups are made by other tools (PostgreSQL) answers 501
// with its message, which names them.
func TestAdminBackupLeftToOtherTools(t *testing.T) {
	base := startOpsAdmin(t, admin.Config{Backup: func(io.Writer) error {
		return fmt.Errorf("backup: %w: %w", errors.New("back up the database with pg_dump"), inbox.ErrUnsupported)
	}})
	status, body := opsCall(t, http.MethodGet, base+"/api/v1/backup", "adm")
	if status != http.StatusNotImplemented || !strings.Contains(body, "pg_dump") {
		t.Fatalf("got %d %s, want 501 naming pg_dump", status, body)
	}
}
