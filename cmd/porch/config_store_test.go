package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox/postgres"
	"github.com/porchgw/porch/inbox/postgres/pgtest"
)

// storeConfig writes a config file for the given store block and returns
// its path.
func storeConfig(t *testing.T, store string) string {
	t.Helper()
	dir := t.TempDir()
	text := "listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\ndata_dir: " + filepath.Join(dir, "data") + "\n" +
		store + "sources:\n  - name: koji\n    provider: koji\n    secrets: [\"s\"]\n"
	path := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func postgresBlock(url string) string {
	return "store:\n  backend: postgres\n  url: '" + url + "'\n"
}

// runCmd runs a porch command and returns its exit code and output.
func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestStoreURLFromEnv(t *testing.T) {
	text := "store:\n  backend: postgres\n  url: \"${PORCH_DATABASE_URL}\"\nsources:\n  - name: koji\n    provider: koji\n    secrets: [\"s\"]\n"
	cfg := mustParse(t, text, envOf(map[string]string{"PORCH_DATABASE_URL": "postgres://porch:hunter2@db/porch"}))
	if cfg.Store.URL != "postgres://porch:hunter2@db/porch" {
		t.Errorf("store.url = %q", cfg.Store.URL)
	}
	if got := cfg.Masked().Store.URL; strings.Contains(got, "hunter2") {
		t.Errorf("masked store.url shows the password: %s", got)
	}
	_, err := ParseConfig(strings.NewReader(text), noEnv)
	want := "config: store.url: empty after expanding ${PORCH_DATABASE_URL}"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	if cfg := mustParse(t, "sources:\n  - name: koji\n    provider: koji\n    secrets: [\"s\"]\n", noEnv); cfg.Store.Backend != backendBadger {
		t.Errorf("default store.backend = %q, want badger", cfg.Store.Backend)
	}
}

// porch serve on a database it cannot reach exits 1 and says which,
// without the password.
func TestServeUnreachableDatabase(t *testing.T) {
	path := storeConfig(t, postgresBlock("postgres://porch:hunter2@/porch?host=/nonexistent-porch-dir&connect_timeout=2"))
	code, _, stderr := runCmd("serve", "--config", path)
	if code != 1 || !strings.Contains(stderr, "nonexistent-porch-dir") || strings.Contains(stderr, "hunter2") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

// An unreachable database: check-config and migrate say so without the
// password, and exit 1.
func TestStoreCommandsUnreachable(t *testing.T) {
	path := storeConfig(t, postgresBlock("postgres://porch:hunter2@/porch?host=/nonexistent-porch-dir"))
	for _, cmd := range []string{"check-config", "migrate"} {
		code, stdout, stderr := runCmd(cmd, "--config", path)
		if code != 1 || !strings.Contains(stderr, "nonexistent-porch-dir") || strings.Contains(stdout+stderr, "hunter2") {
			t.Errorf("%s: exit %d, stdout:\n%s\nstderr:\n%s", cmd, code, stdout, stderr)
		}
	}
}

func TestMigrateRefusesBadger(t *testing.T) {
	code, _, stderr := runCmd("migrate", "--config", storeConfig(t, ""))
	if code != 2 || !strings.Contains(stderr, "store.backend is badger") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, _ := runCmd("migrate"); code != 2 {
		t.Fatalf("migrate without --config: exit %d, want 2", code)
	}
}

// porch migrate prepares an empty database, then has nothing to do;
// check-config reports the schema current.
func TestMigrateThenCheck(t *testing.T) {
	url := pgtest.URL(t)
	path := storeConfig(t, postgresBlock(url))
	latest := postgres.SchemaVersion()
	code, _, stderr := runCmd("check-config", "--config", path)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("schema version 0, this porch needs %d: porch serve applies it at start, or run porch migrate first", latest)) {
		t.Fatalf("check-config before migrate: exit %d, stderr:\n%s", code, stderr)
	}
	code, stdout, stderr := runCmd("migrate", "--config", path)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("schema migrated from version 0 to %d", latest)) {
		t.Fatalf("migrate: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	code, stdout, _ = runCmd("migrate", "--config", path)
	if code != 0 || !strings.Contains(stdout, "nothing to do") {
		t.Fatalf("second migrate: exit %d, stdout %s", code, stdout)
	}
	code, _, stderr = runCmd("check-config", "--config", path)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("schema version %d is current", latest)) {
		t.Fatalf("check-config after migrate: exit %d, stderr:\n%s", code, stderr)
	}

	// A schema a newer porch left: serve would refuse it, so check-config
	// fails too, and migrate touches nothing.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	newer := latest + 1
	if _, err := conn.Exec(context.Background(), "INSERT INTO porch_schema (version, name) VALUES ($1, 'from a newer porch')", newer); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd("check-config", "--config", path)
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("schema version %d is newer than this porch's (%d): upgrade porch", newer, latest)) {
		t.Fatalf("check-config on a newer schema: exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, stderr = runCmd("migrate", "--config", path); code != 1 || !strings.Contains(stderr, "upgrade porch") {
		t.Fatalf("migrate on a newer schema: exit %d, stderr:\n%s", code, stderr)
	}
}

// Changing the store takes a restart; a reload keeps the running one.
func TestStoreIsRestartOnly(t *testing.T) {
	running := storeConfig(t, "")
	next := storeConfig(t, postgresBlock("postgres:///porch?host=/var/run/postgresql"))
	r, err := LoadConfig(running)
	if err != nil {
		t.Fatal(err)
	}
	n, err := LoadConfig(next)
	if err != nil {
		t.Fatal(err)
	}
	keys, merged := restartRequired(r, n, nil)
	if !slices.Contains(keys, "store") || merged.Store != r.Store {
		t.Fatalf("restart required %v, merged store %+v", keys, merged.Store)
	}
}

// porch backup of a config on PostgreSQL points at pg_dump rather than
// pretend to back the database up.
func TestBackupPostgresSaysPgDump(t *testing.T) {
	path := storeConfig(t, postgresBlock("postgres://porch:hunter2@/porch?host=/nonexistent-porch-dir"))
	code, _, stderr := runCmd("backup", "--config", path, "--out", filepath.Join(t.TempDir(), "b"))
	if code != 2 || !strings.Contains(stderr, "pg_dump") || strings.Contains(stderr, "hunter2") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

// send-test and sink never open the store: a config whose database URL
// comes from a variable this terminal lacks still serves them, while the
// commands that use the store name store.url.
func TestStorelessCommandsIgnoreTheStoreBlock(t *testing.T) {
	dir := t.TempDir()
	got := make(chan string, 1)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Path:
		default:
		}
		w.Write([]byte(`{"id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","duplicate":false}`))
	}))
	defer gw.Close()
	yaml := strings.Replace(testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:9/unused"),
		"sources:", "store: {backend: postgres, url: \"${PORCH_TEST_UNSET_DATABASE_URL}\"}\nsources:", 1)
	cfg := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(runSendTest, "--config", cfg, "--source", "koji", "--event", "interview.completed", "--url", gw.URL+"/in/koji")
	if code != 0 || <-got != "/in/koji" {
		t.Errorf("send-test: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := cli(runSink, "--config", cfg, "--status", "42"); code != 2 || !strings.Contains(errs, "not an HTTP status") {
		t.Errorf("sink got past its config: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd("check-config", "--config", cfg); code != 2 || !strings.Contains(errs, "store.url: empty after expanding ${PORCH_TEST_UNSET_DATABASE_URL}") {
		t.Errorf("check-config: exit %d, %q", code, errs)
	}
}
