package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/porchgw/porch/inbox/postgres"
	"github.com/porchgw/porch/loadgen"
)

func init() {
	register("bench", "drive a running gateway with signed deliveries and report throughput and latency", runBench)
}

// benchOptions are the bench command's flags.
type benchOptions struct {
	config, url, source, sink string
	concurrency, count, pid   int
	duration, drain           time.Duration
	dup, bad                  float64
	json                      bool
	baseline                  baselineFlag
	dataDir                   string      // the config's data_dir: the Badger durable baseline writes beside it
	store                     StoreConfig // the config's store: on postgres, the durable baseline writes there
}

// baselineFlag is --baseline: which references to measure after porch.
// Given bare it means the net/http one.
type baselineFlag struct{ http, durable bool }

func (b *baselineFlag) String() string {
	switch {
	case b.http && b.durable:
		return "all"
	case b.durable:
		return "durable"
	case b.http:
		return "http"
	}
	return ""
}

func (b *baselineFlag) Set(v string) error {
	switch v {
	case "true", "http":
		b.http = true
	case "durable":
		b.durable = true
	case "all":
		b.http, b.durable = true, true
	case "false":
		b.http, b.durable = false, false
	default:
		return fmt.Errorf("want http, durable or all, got %q", v)
	}
	return nil
}

func (b *baselineFlag) IsBoolFlag() bool { return true }

// joinBaselineValue lets "--baseline durable" be written with a space, as
// other value flags are: the flag package reads a boolean-like flag's next
// argument as a positional one.
func joinBaselineValue(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--baseline" || a == "-baseline") && i+1 < len(args) {
			switch args[i+1] {
			case "http", "durable", "all":
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o benchOptions
	fs := newFlags("bench", "--config FILE [--source koji|gather|all] [--concurrency N] [--duration D | --count N] [--sink ADDR] [--baseline [http|durable|all]] [--json]", stdout, stderr)
	fs.StringVar(&o.config, "config", "", "the gateway's config file, for its sources, secrets and listen address (required)")
	fs.StringVar(&o.url, "url", "", "gateway base URL (default: the config's listen address)")
	fs.StringVar(&o.source, "source", "all", "source to send to, as named in the config, or all")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent senders")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send (ignored with --count)")
	fs.IntVar(&o.count, "count", 0, "send this many requests, then stop")
	fs.Float64Var(&o.dup, "dup", 0.1, "fraction of requests that resend an earlier delivery exactly")
	fs.Float64Var(&o.bad, "bad", 0.05, "fraction of requests signed with a wrong secret")
	fs.StringVar(&o.sink, "sink", "", "also run a destination on ADDR (answers 200) and report forwarding")
	fs.DurationVar(&o.drain, "drain", 15*time.Second, "with --sink: how long to wait after the load for the last forwards")
	fs.Var(&o.baseline, "baseline", "also measure a reference in the same run and report porch's throughput as a ratio of it: http (a bare net/http handler; the default), durable (a minimal verifying receiver that group-commits into Badger with fsync, in a temporary directory beside data_dir; with store.backend postgres, into tables in a temporary schema of the configured database), or all")
	fs.IntVar(&o.pid, "pid", 0, "gateway process id for RSS sampling (default: the local process listening on the URL's port)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	if code, ok := parseFlags(fs, joinBaselineValue(args)); !ok {
		return code
	}
	targets, base, code := benchTargets(&o, stderr)
	if code != 0 {
		return code
	}
	rep, err := bench(ctx, o, targets, base, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "porch bench: %v\n", err)
		return 1
	}
	if o.json {
		return rep.writeJSON(stdout, stderr)
	}
	rep.writeTable(stdout)
	return 0
}

// benchTargets checks the flags and builds the targets from the config.
func benchTargets(o *benchOptions, stderr io.Writer) ([]*loadgen.Target, string, int) {
	fail := func(format string, a ...any) ([]*loadgen.Target, string, int) {
		fmt.Fprintf(stderr, "porch bench: "+format+"\n", a...)
		return nil, "", 2
	}
	switch {
	case o.config == "":
		return fail("--config is required")
	case o.concurrency <= 0:
		return fail("--concurrency: must be positive")
	case o.count < 0 || (o.count == 0 && o.duration <= 0):
		return fail("--duration or --count: must be positive")
	case o.dup < 0 || o.bad < 0 || o.dup+o.bad > 1:
		return fail("--dup and --bad: must be fractions summing to at most 1")
	case o.pid < 0:
		return fail("--pid: must be a process id")
	case o.url != "" && checkURLFlag(o.url) != nil:
		return fail("--url: %v", checkURLFlag(o.url))
	case o.sink != "" && checkListenFlag(o.sink) != nil:
		return fail("--sink: %v", checkListenFlag(o.sink))
	}
	cfg, err := LoadConfig(o.config)
	if err != nil {
		return fail("--config: %v", err)
	}
	o.dataDir, o.store = cfg.DataDir, cfg.Store
	base := strings.TrimSuffix(o.url, "/")
	if base == "" {
		base = cfg.selfURL()
	}
	var targets []*loadgen.Target
	for _, s := range cfg.Sources {
		if o.source == "all" || o.source == s.Name {
			targets = append(targets, &loadgen.Target{Source: s.Name, Provider: s.Provider, Secret: s.Secrets[0], URL: base + "/in/" + s.Name})
		}
	}
	if len(targets) == 0 {
		return fail("--source: no source named %q in %s", o.source, o.config)
	}
	return targets, base, 0
}

// benchReport is everything one bench run measured.
type benchReport struct {
	Options  benchSettings   `json:"settings"`
	Porch    loadgen.Report  `json:"porch"`
	Baseline *loadgen.Report `json:"baseline,omitempty"`
	Ratio    float64         `json:"ratio_to_baseline,omitempty"`
	// Durable is the durable baseline's run (--baseline durable), into
	// DurableStore (badger or postgres, as the config's store.backend),
	// and DurableRatio porch's throughput as a ratio of it.
	Durable      *loadgen.Report     `json:"durable,omitempty"`
	DurableStore string              `json:"durable_store,omitempty"`
	DurableRatio float64             `json:"ratio_to_durable,omitempty"`
	PID          int                 `json:"pid,omitempty"`
	RSSPeak      *loadgen.RSS        `json:"rss_peak,omitempty"`
	Sink         *loadgen.SinkReport `json:"sink,omitempty"`
	LagMax       int                 `json:"forward_lag_max,omitempty"`
	LagSeries    []int               `json:"forward_lag_per_second,omitempty"`
	Drained      time.Duration       `json:"drain_ns,omitempty"`
	// CPUPerAck is the gateway's CPU time (user + system) per 200 answer
	// during the load: unlike throughput, it hardly depends on what else
	// the machine is running.
	CPUPerAck time.Duration `json:"gateway_cpu_per_ack_ns,omitempty"`
	CPUShare  float64       `json:"gateway_cpu_cores,omitempty"` // CPU seconds per second of load
	// ToolCPUShare is this process's CPU seconds per second of load: the
	// load tool, and the sink when there is one. On the gateway's machine
	// it is what the measurement itself takes.
	ToolCPUShare float64 `json:"tool_cpu_cores,omitempty"`
}

type benchSettings struct {
	URL         string        `json:"url"`
	Sources     []string      `json:"sources"`
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"duration_ns,omitempty"`
	Count       int           `json:"count,omitempty"`
	Dup         float64       `json:"dup"`
	Bad         float64       `json:"bad"`
}

// bench runs the load (and the sink, RSS sampler and baseline around it).
func bench(ctx context.Context, o benchOptions, targets []*loadgen.Target, base string, stderr io.Writer) (*benchReport, error) {
	rep := &benchReport{Options: benchSettings{URL: base, Concurrency: o.concurrency, Count: o.count, Dup: o.dup, Bad: o.bad}}
	if o.count == 0 {
		rep.Options.Duration = o.duration
	}
	for _, t := range targets {
		rep.Options.Sources = append(rep.Options.Sources, t.Source)
	}
	cfg := loadgen.Config{Targets: targets, Concurrency: o.concurrency, Duration: o.duration, Count: o.count, Dup: o.dup, Bad: o.bad}
	var sink *loadgen.Sink
	if o.sink != "" {
		var stop func()
		var err error
		if sink, stop, err = startSink(o.sink); err != nil {
			return nil, err
		}
		defer stop()
		cfg.OnAck = func(_ loadgen.Delivery, id string, at time.Time) { sink.Expect(id, at) }
	}
	rep.PID = o.pid
	if rep.PID == 0 {
		rep.PID, _ = loadgen.PIDListening(base)
	}
	rctx, stopRSS := context.WithCancel(ctx)
	var rss *loadgen.RSSSampler
	if rep.PID > 0 {
		rss = loadgen.SampleRSS(rctx, rep.PID, 100*time.Millisecond)
	}
	lagDone := make(chan struct{})
	if sink != nil {
		go func() { defer close(lagDone); rep.LagSeries = sampleLag(rctx, sink) }()
	} else {
		close(lagDone)
	}
	cpu0, cpuErr := loadgen.ReadCPU(rep.PID)
	self0, selfErr := loadgen.ReadCPU(os.Getpid())
	start := time.Now()
	r, err := loadgen.Run(ctx, cfg)
	if err != nil {
		stopRSS()
		return nil, err
	}
	rep.Porch = r
	if cpu1, err := loadgen.ReadCPU(rep.PID); err == nil && cpuErr == nil && rep.PID > 0 {
		if acks := r.Status[http.StatusOK]; acks > 0 {
			rep.CPUPerAck = (cpu1 - cpu0) / time.Duration(acks)
		}
		rep.CPUShare = (cpu1 - cpu0).Seconds() / r.Elapsed.Seconds()
	}
	if self1, err := loadgen.ReadCPU(os.Getpid()); err == nil && selfErr == nil {
		rep.ToolCPUShare = (self1 - self0).Seconds() / r.Elapsed.Seconds()
	}
	if sink != nil {
		rep.Drained = drain(ctx, sink, o.drain)
		sr := sink.Report(start)
		rep.Sink = &sr
	}
	stopRSS()
	<-lagDone
	for _, l := range rep.LagSeries {
		rep.LagMax = max(rep.LagMax, l)
	}
	if rss != nil {
		peak := rss.Peak()
		rep.RSSPeak = &peak
	}
	if o.baseline.http {
		if err := runBaseline(ctx, cfg, rep); err != nil {
			return nil, err
		}
	}
	if o.baseline.durable {
		if err := runDurable(ctx, cfg, o, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// startSink serves a loadgen.Sink on addr.
func startSink(addr string) (*loadgen.Sink, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--sink: listen %s: %w", addr, err)
	}
	sink := loadgen.NewSink()
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return sink, func() { _ = srv.Close() }, nil
}

// sampleLag records, every second until ctx ends, how many acknowledged
// events the sink has not received yet.
func sampleLag(ctx context.Context, sink *loadgen.Sink) []int {
	var out []int
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
			out = append(out, sink.Lag())
		}
	}
}

// drain waits up to limit for the sink to receive every acknowledged event
// and returns how long that took.
func drain(ctx context.Context, sink *loadgen.Sink, limit time.Duration) time.Duration {
	start := time.Now()
	for sink.Lag() > 0 && time.Since(start) < limit && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// runAt sends cfg's load to the same sources at another base URL (a
// baseline), with no acknowledgement hook.
func runAt(ctx context.Context, cfg loadgen.Config, base string) (loadgen.Report, error) {
	targets := make([]*loadgen.Target, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		bt := *t
		bt.URL = base + "/in/" + t.Source
		targets = append(targets, &bt)
	}
	cfg.Targets, cfg.OnAck = targets, nil
	return loadgen.Run(ctx, cfg)
}

// runBaseline sends the same load to a bare net/http handler.
func runBaseline(ctx context.Context, cfg loadgen.Config, rep *benchReport) error {
	b, err := loadgen.StartBaseline()
	if err != nil {
		return err
	}
	defer b.Close()
	r, err := runAt(ctx, cfg, b.URL())
	if err != nil {
		return err
	}
	r.Wrong, r.FirstError = 0, "" // the baseline answers 200 to everything by design
	rep.Baseline = &r
	if r.Throughput > 0 {
		rep.Ratio = rep.Porch.Throughput / r.Throughput
	}
	return nil
}

// runDurable measures the durable baseline with the same load. On a
// PostgreSQL config its tables are in a temporary schema of the
// configured database; otherwise its Badger store is in a temporary
// directory beside data_dir (so on the same filesystem). Either is
// removed afterwards.
func runDurable(ctx context.Context, cfg loadgen.Config, o benchOptions, rep *benchReport) error {
	var store durableStore
	if o.store.Backend == backendPostgres {
		b, err := postgres.OpenBaseline(ctx, o.store.URL)
		if err != nil {
			return err
		}
		store = postgresDurable{b}
	} else {
		parent := filepath.Dir(filepath.Clean(o.dataDir))
		dir, err := os.MkdirTemp(parent, ".porch-bench-durable-")
		if err != nil {
			return fmt.Errorf("durable baseline: a temporary directory beside data_dir %s: %w", o.dataDir, err)
		}
		defer os.RemoveAll(dir)
		if store, err = openBadgerDurable(dir); err != nil {
			return err
		}
	}
	d, err := startDurable(store, cfg.Targets)
	if err != nil {
		return err
	}
	r, err := runAt(ctx, cfg, d.URL())
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	rep.Durable, rep.DurableStore = &r, store.name()
	if r.Throughput > 0 {
		rep.DurableRatio = rep.Porch.Throughput / r.Throughput
	}
	return nil
}
