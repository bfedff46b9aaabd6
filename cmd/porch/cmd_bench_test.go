package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox/postgres/pgtest"
)

// TestBenchAgainstAGatewayInThisProcess runs `porch bench` with its sink
// and the bare baseline against a real gateway, and checks the report
// the README's figures come from: every answer as the contract says,
// every new event forwarded exactly once, and the ratio, RSS and CPU
// figures filled in. (The gateway runs in the test's process, so the
// gateway's and the tool's CPU are the same process here.)
func TestBenchAgainstAGatewayInThisProcess(t *testing.T) {
	sinkAddr := freeAddr(t) // bench starts its sink there
	dir := t.TempDir()
	yaml := forwardConfig(filepath.Join(dir, "data"), "http://"+sinkAddr+"/hook")
	cfg := writeProcConfig(t, dir, yaml)
	m, _ := startMain(t, yaml)

	var out, errOut bytes.Buffer
	code := runBench(context.Background(), []string{
		"--config", cfg, "--url", "http://" + m.Gateway.Addr(), "--count", "400", "--concurrency", "8",
		"--sink", sinkAddr, "--drain", "30s", "--baseline", "--pid", strconv.Itoa(os.Getpid()), "--json",
	}, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var r benchReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	p := r.Porch
	if p.Requests != 400 || p.Errors != 0 || p.Wrong != 0 {
		t.Fatalf("%d requests, %d transport errors, %d wrong answers (first: %s)", p.Requests, p.Errors, p.Wrong, p.FirstError)
	}
	if p.Status[http.StatusOK] == 0 || p.Status[http.StatusUnauthorized] == 0 || p.NewEvents == 0 || p.Duplicates == 0 {
		t.Errorf("status %v, %d new, %d duplicates: want some of each", p.Status, p.NewEvents, p.Duplicates)
	}
	if k := r.Sink; k == nil || k.Events != p.NewEvents || k.Missing != 0 || k.Redelivered != 0 {
		t.Errorf("sink %+v: want each of the %d new events once", k, p.NewEvents)
	}
	if r.Baseline == nil || r.Baseline.Requests != 400 || r.Ratio <= 0 {
		t.Errorf("baseline %+v, ratio %v", r.Baseline, r.Ratio)
	}
	if r.RSSPeak == nil || r.RSSPeak.Total <= 0 || r.CPUPerAck <= 0 || r.ToolCPUShare <= 0 {
		t.Errorf("rss %+v, CPU per ack %v, tool CPU %v cores: want all measured", r.RSSPeak, r.CPUPerAck, r.ToolCPUShare)
	}
}

// TestBenchDurableBaseline runs `porch bench --baseline durable` against a
// real gateway: the durable receiver answers the same load as porch does
// (no wrong answers), the ratio is reported, and its temporary store
// beside data_dir is gone afterwards.
func TestBenchDurableBaseline(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	yaml := forwardConfig(dataDir, "http://"+freeAddr(t)+"/hook")
	cfg := writeProcConfig(t, dir, yaml)
	m, _ := startMain(t, yaml)

	var out, errOut bytes.Buffer
	code := runBench(context.Background(), []string{
		"--config", cfg, "--url", "http://" + m.Gateway.Addr(), "--count", "300", "--concurrency", "8",
		"--baseline", "durable", "--pid", strconv.Itoa(os.Getpid()), "--json",
	}, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var r benchReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if r.Baseline != nil {
		t.Errorf("the net/http baseline ran too: %+v", r.Baseline)
	}
	d := r.Durable
	if d == nil || d.Requests != 300 || d.Errors != 0 || d.Wrong != 0 || r.DurableRatio <= 0 {
		t.Fatalf("durable %+v, ratio %v: want 300 requests answered as porch answers them", d, r.DurableRatio)
	}
	if d.NewEvents == 0 || d.Duplicates == 0 || d.Status[http.StatusUnauthorized] == 0 {
		t.Errorf("durable: %d new, %d duplicates, status %v: want some of each", d.NewEvents, d.Duplicates, d.Status)
	}
	if r.DurableStore != "badger" {
		t.Errorf("durable_store %q, want badger", r.DurableStore)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".porch-bench-durable-*"))
	if len(left) != 0 {
		t.Errorf("temporary stores left behind: %v", left)
	}
}

// TestBenchDurableBaselineOnPostgres runs `porch bench --baseline durable`
// against a real gateway on PostgreSQL: the baseline that runs is the
// PostgreSQL one, it answers the load as porch does, its report says
// which it was, and dropping its schema succeeded (bench fails otherwise).
// Nothing is written beside data_dir.
func TestBenchDurableBaselineOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	yaml := forwardConfig(filepath.Join(dir, "data"), "http://"+freeAddr(t)+"/hook") + postgresBlock(url)
	cfg := writeProcConfig(t, dir, yaml)
	m, _ := startMain(t, yaml)

	var out, errOut bytes.Buffer
	code := runBench(context.Background(), []string{
		"--config", cfg, "--url", "http://" + m.Gateway.Addr(), "--count", "300", "--concurrency", "8",
		"--baseline", "durable", "--json",
	}, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var r benchReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if r.DurableStore != "postgres" {
		t.Errorf("durable_store %q, want postgres", r.DurableStore)
	}
	d := r.Durable
	if d == nil || d.Requests != 300 || d.Errors != 0 || d.Wrong != 0 || r.DurableRatio <= 0 {
		t.Fatalf("durable %+v, ratio %v: want 300 requests answered as porch answers them", d, r.DurableRatio)
	}
	if d.NewEvents == 0 || d.Duplicates == 0 || d.Status[http.StatusUnauthorized] == 0 {
		t.Errorf("durable: %d new, %d duplicates, status %v: want some of each", d.NewEvents, d.Duplicates, d.Status)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".porch-bench-durable-*"))
	if len(left) != 0 {
		t.Errorf("a Badger baseline ran beside data_dir: %v", left)
	}
	var table bytes.Buffer
	r.writeTable(&table)
	if !strings.Contains(table.String(), "durable (postgres)") {
		t.Errorf("the table does not name the PostgreSQL baseline:\n%s", table.String())
	}
}

// TestBenchBaselineFlag: --baseline alone means the net/http baseline, and
// takes a value with a space or an equals sign.
func TestBenchBaselineFlag(t *testing.T) {
	for _, c := range []struct {
		args          []string
		http, durable bool
	}{
		{[]string{"--baseline"}, true, false},
		{[]string{"--baseline", "durable"}, false, true},
		{[]string{"--baseline=all"}, true, true},
		{[]string{"--baseline", "http", "--json"}, true, false},
	} {
		fs := newFlags("bench", "", io.Discard, io.Discard)
		var b baselineFlag
		fs.Var(&b, "baseline", "")
		fs.Bool("json", false, "")
		if err := fs.Parse(joinBaselineValue(c.args)); err != nil || fs.NArg() != 0 {
			t.Errorf("%q: %v, args left %q", c.args, err, fs.Args())
			continue
		}
		if b.http != c.http || b.durable != c.durable {
			t.Errorf("%q: http %v durable %v", c.args, b.http, b.durable)
		}
	}
	var out, errOut bytes.Buffer
	if code := runBench(context.Background(), []string{"--config", "x.yaml", "--baseline=disk"}, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "--baseline") {
		t.Errorf("--baseline=disk: exit %d, %q", code, errOut.String())
	}
}

// TestBenchConfigsInDocsAreValid keeps the configs docs/performance.md
// tells users to run `porch bench` with from rotting.
func TestBenchConfigsInDocsAreValid(t *testing.T) {
	files, _ := filepath.Glob("../../docs/bench/*.yaml")
	if len(files) == 0 {
		t.Fatal("no configs in docs/bench")
	}
	for _, f := range files {
		mustParseFile(t, f, noEnv)
	}
}
