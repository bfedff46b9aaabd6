package pgtest

import (
	"fmt"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a PostgreSQL server of a test's own, in a temporary
// directory, listening on a unix socket only: a test may stop, kill and
// restart it without disturbing tests that share the database named by
// EnvVar.
type Cluster struct {
	t      testing.TB
	bin    string // directory holding initdb, pg_ctl and postgres
	dir    string // data directory
	socket string // socket directory
	owner  string // the user the server runs as: "" for the current one
}

// NewCluster creates and starts a cluster, stopped when the test ends.
// Like URL it skips without EnvVar, and it skips when no PostgreSQL
// server binaries are installed. Run as root, the server runs as the
// postgres user, since PostgreSQL refuses to run as root.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if os.Getenv(EnvVar) == "" {
		t.Skip("PostgreSQL tests need a database: set " + EnvVar + " (.ci/run sets one up)")
	}
	bin := serverBin()
	if bin == "" {
		t.Skip("no PostgreSQL server binaries (initdb) found under /usr/lib/postgresql")
	}
	c := &Cluster{t: t, bin: bin}
	if os.Geteuid() == 0 {
		c.owner = "postgres"
	}
	// Not t.TempDir: the postgres user must be able to reach the directory.
	root, err := os.MkdirTemp("", "porch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	c.dir, c.socket = filepath.Join(root, "data"), filepath.Join(root, "run")
	for _, d := range []string{c.dir, c.socket} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		c.chown(d)
	}
	c.run("initdb", "--pgdata", c.dir, "--auth", "trust", "--username", "porch", "--no-sync", "--encoding", "UTF8")
	conf := fmt.Sprintf("listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = on\nmax_connections = 100\n", c.socket)
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(conf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c.Start()
	t.Cleanup(func() { c.ctl("stop", "-m", "immediate") })
	return c
}

// URL is the connection string of the cluster's postgres database.
func (c *Cluster) URL() string {
	return "postgres://porch@/postgres?host=" + c.socket
}

// Start starts the server and waits until it takes connections.
func (c *Cluster) Start() {
	c.t.Helper()
	c.ctl("start", "-w", "-l", filepath.Join(c.dir, "server.log"))
}

// Stop stops the server at once, as a crash would: open connections
// break and nothing is flushed beyond what was committed.
func (c *Cluster) Stop() { c.t.Helper(); c.ctl("stop", "-m", "immediate", "-w") }

// Log returns the server's log, for failure messages.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

func (c *Cluster) ctl(args ...string) {
	c.t.Helper()
	c.run("pg_ctl", append([]string{"--pgdata", c.dir}, args...)...)
}

// run runs one of the server's programs as the cluster's owner.
func (c *Cluster) run(prog string, args ...string) {
	c.t.Helper()
	path := filepath.Join(c.bin, prog)
	var cmd *osexec.Cmd
	if c.owner != "" {
		cmd = osexec.Command("runuser", append([]string{"-u", c.owner, "--", path}, args...)...)
	} else {
		cmd = osexec.Command(path, args...)
	}
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
}

func (c *Cluster) chown(path string) {
	if c.owner == "" {
		return
	}
	u, err := user.Lookup(c.owner)
	if err != nil {
		c.t.Fatalf("user %s: %v", c.owner, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		c.t.Fatal(err)
	}
}

// serverBin finds the newest installed server's bin directory.
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[len(dirs)-1])
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}
