package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	inboxbadger "github.com/porchgw/porch/inbox/badger"
)

func init() {
	register("backup", "take an online backup of the store (via the running gateway, or from a stopped data dir)", runBackup)
	register("restore", "restore a backup into an empty data dir", runRestore)
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("backup", "--out FILE (--config FILE | --admin-url URL | --data-dir DIR) [--token TOKEN]", stdout, stderr)
	out := fs.String("out", "", "file to write the backup to (required)")
	cfgPath := fs.String("config", "", "config file: backs up through its admin_listen with its first admin token")
	adminURL := fs.String("admin-url", "", "admin listener base URL of the running gateway, e.g. http://127.0.0.1:8081")
	token := fs.String("token", "", "admin token (default $PORCH_ADMIN_TOKEN, then the config's first admin token)")
	dataDir := fs.String("data-dir", "", "back up a stopped gateway's data dir directly")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "porch backup: --out is required")
		return 2
	}
	if *out == "-" {
		// A backup is written to a file and renamed into place once whole;
		// standard output could not tell a reader it was cut short.
		return badFlag(stderr, "backup", "out", "- (standard output) is not supported: name a file, e.g. --out porch.backup")
	}
	var src func(io.Writer) error
	switch {
	case *dataDir != "":
		src = func(w io.Writer) error { return backupDir(*dataDir, w) }
	case *adminURL != "" || *cfgPath != "":
		if *adminURL != "" {
			if err := checkURLFlag(*adminURL); err != nil {
				return badFlag(stderr, "backup", "admin-url", "%v", err)
			}
		}
		url, tok, err := adminTarget(*cfgPath, *adminURL, *token)
		if err != nil {
			fmt.Fprintf(stderr, "porch backup: %v\n", err)
			return 2
		}
		src = func(w io.Writer) error { return backupHTTP(ctx, url, tok, w) }
	default:
		fmt.Fprintln(stderr, "porch backup: one of --config, --admin-url or --data-dir is required")
		return 2
	}
	n, err := writeFileAtomically(*out, src)
	if err != nil {
		fmt.Fprintf(stderr, "porch backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", *out, n)
	return 0
}

// adminTarget resolves the admin URL and token from flags, environment
// and config, in that order of precedence.
func adminTarget(cfgPath, url, token string) (string, string, error) {
	if token == "" {
		token = os.Getenv("PORCH_ADMIN_TOKEN")
	}
	if cfgPath != "" {
		cfg, err := LoadConfig(cfgPath)
		if err != nil {
			return "", "", fmt.Errorf("--config: %w", err)
		}
		if cfg.Store.Backend == backendPostgres {
			return "", "", errPostgresBackup
		}
		if url == "" {
			url = cfg.adminURL()
		}
		if token == "" && len(cfg.Auth.AdminTokens) > 0 {
			token = cfg.Auth.AdminTokens[0]
		}
	}
	if token == "" {
		return "", "", errors.New("--token: no admin token (flag, $PORCH_ADMIN_TOKEN or config)")
	}
	return strings.TrimRight(url, "/"), token, nil
}

// errPostgresBackup is porch backup's answer for a config on PostgreSQL,
// whose backups are the database's.
var errPostgresBackup = errors.New("--config: store.backend is postgres: porch keeps everything in the database; back it up with PostgreSQL's tools, e.g. pg_dump --format=custom --no-owner --file=porch.dump \"$PORCH_DATABASE_URL\" (restore with pg_restore --no-owner), or your provider's point-in-time recovery")

// backupHTTP streams GET /api/v1/backup into w.
func backupHTTP(ctx context.Context, base, token string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/backup", nil)
	if err != nil {
		return fmt.Errorf("admin url: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 6 * time.Hour}).Do(req)
	if err != nil {
		return fmt.Errorf("request backup: %w", unreachable(ctx, base, "--admin-url, or the config's admin_listen", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(msg, &e) == nil && e.Error != "" {
			msg = []byte(e.Error)
		}
		if resp.StatusCode == http.StatusNotImplemented {
			return fmt.Errorf("the gateway keeps its data in PostgreSQL, which porch does not back up: %s", msg)
		}
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (a backup needs an admin token: pass --token or set PORCH_ADMIN_TOKEN to one of the gateway's auth.admin_tokens)"
		}
		return fmt.Errorf("request backup: %s: %s%s", resp.Status, strings.TrimSpace(string(msg)), hint)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("download backup (incomplete, discarded): %w", err)
	}
	return nil
}

// backupDir backs up a data dir no gateway is running on. It opens only
// a store that is there: opening creates one in any other directory.
func backupDir(dir string, w io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	db, err := inboxbadger.Open(inboxbadger.Options{Dir: dir, MustExist: true})
	if errors.Is(err, inboxbadger.ErrNoStore) {
		return fmt.Errorf("--data-dir: %s is not a porch data directory (it holds no store); name the data_dir of a stopped porch (a node on PostgreSQL keeps nothing there: back up its database with pg_dump)", dir)
	}
	if err != nil {
		return dataDirError(dir, err, "back up through it instead, with --config or --admin-url")
	}
	defer db.Close()
	return db.Backup(w)
}

// writeFileAtomically writes what fill produces to path via a temporary
// file that is synced and renamed only when fill succeeded.
func writeFileAtomically(path string, fill func(io.Writer) error) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".part-*")
	if err != nil {
		return 0, fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	cw := &countingWriter{w: tmp}
	err = fill(cw)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("--out: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("restore", "--in FILE --data-dir DIR [--legacy]", stdout, stderr)
	in := fs.String("in", "", "backup file written by porch backup (required)")
	dataDir := fs.String("data-dir", "", "empty or new directory to restore into (required)")
	legacy := fs.Bool("legacy", false, "restore a backup written before backups had a header and checksum, unchecked")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *in == "" || *dataDir == "" {
		fmt.Fprintln(stderr, "porch restore: --in and --data-dir are required")
		return 2
	}
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintf(stderr, "porch restore: --in: %v\n", err)
		return 2
	}
	defer f.Close()
	restore := inboxbadger.Restore
	if *legacy {
		restore = inboxbadger.RestoreLegacy
	}
	if err := restore(*dataDir, f); err != nil {
		err = restoreError(*in, *dataDir, err)
		fmt.Fprintf(stderr, "porch restore: %v\n", err)
		if errors.Is(err, inboxbadger.ErrNotEmpty) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stdout, "restored %s into %s; point data_dir at it and start porch\n", *in, *dataDir)
	return 0
}

// restoreError says what a failed restore means for the operator: a
// store in use is not empty either, and a file without porch's backup
// header may be a backup from before backups had one.
func restoreError(in, dir string, err error) error {
	switch {
	case errors.Is(err, inboxbadger.ErrNotBackup):
		return fmt.Errorf("--in %s: %w; nothing was restored. If it is a backup written by a porch from before backups had a header and checksum, restore it with --legacy, which cannot tell whether it is whole", in, err)
	case errors.Is(err, inboxbadger.ErrDamaged):
		return fmt.Errorf("--in %s: %w; nothing was restored: take a new backup, or restore an older one", in, err)
	}
	return dataDirError(dir, err, "stop it, then restore into a new, empty directory")
}
