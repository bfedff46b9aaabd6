package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/porchgw/porch/loadgen"
)

func (r *benchReport) writeJSON(stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		fmt.Fprintf(stderr, "porch bench: %v\n", err)
		return 1
	}
	return 0
}

// writeTable prints the report for people.
func (r *benchReport) writeTable(w io.Writer) {
	s := r.Options
	span := s.Duration.String()
	if s.Count > 0 {
		span = fmt.Sprintf("%d requests", s.Count)
	}
	fmt.Fprintf(w, "porch bench: %s, sources %s, %d senders, %s, dup %.0f%%, bad %.0f%%\n\n",
		s.URL, strings.Join(s.Sources, ","), s.Concurrency, span, 100*s.Dup, 100*s.Bad)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trequests\tacks/s\tp50\tp90\tp99\tmax\t200\t401\t503\tother\terrors\twrong\t")
	row(tw, "porch", r.Porch)
	if r.Baseline != nil {
		row(tw, "baseline", *r.Baseline)
	}
	if r.Durable != nil {
		row(tw, r.durableName(), *r.Durable)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nnew events %d, duplicates answered %d\n", r.Porch.NewEvents, r.Porch.Duplicates)
	if r.Baseline != nil {
		fmt.Fprintf(w, "porch / bare net/http throughput: %.2f\n", r.Ratio)
	}
	if r.Durable != nil {
		fmt.Fprintf(w, "porch / %s baseline throughput: %.2f\n", r.durableName(), r.DurableRatio)
	}
	if p := r.RSSPeak; p != nil {
		fmt.Fprintf(w, "gateway RSS peak: %.1f MiB (anon %.1f MiB, file-backed %.1f MiB; pid %d)\n",
			mib(p.Total), mib(p.Anon), mib(p.File), r.PID)
	}
	if r.CPUPerAck > 0 {
		fmt.Fprintf(w, "gateway CPU: %.0f µs per ack, %.2f cores busy\n", float64(r.CPUPerAck)/float64(time.Microsecond), r.CPUShare)
	}
	if r.ToolCPUShare > 0 {
		fmt.Fprintf(w, "load tool CPU (sink included): %.2f cores busy\n", r.ToolCPUShare)
	}
	if k := r.Sink; k != nil {
		fmt.Fprintf(w, "forwarding: %d events (%.0f/s), %d redelivered, receive→forward p50 %s p90 %s p99 %s max %s\n",
			k.Events, k.Throughput, k.Redelivered, ms(k.Latency.P50), ms(k.Latency.P90), ms(k.Latency.P99), ms(k.Latency.Max))
		fmt.Fprintf(w, "forward lag (acked, not yet forwarded): max %d, per second %v; missing after %s drain: %d of %d\n",
			r.LagMax, r.LagSeries, r.Drained.Round(time.Millisecond), k.Missing, k.Expected)
	}
	if r.Porch.FirstError != "" {
		fmt.Fprintf(w, "first unexpected answer: %s\n", r.Porch.FirstError)
	}
}

// durableName names the durable baseline that ran: "durable (badger)"
// or "durable (postgres)".
func (r *benchReport) durableName() string {
	if r.DurableStore == "" {
		return "durable"
	}
	return "durable (" + r.DurableStore + ")"
}

func row(w io.Writer, name string, r loadgen.Report) {
	other := r.Requests - r.Errors - r.Status[http.StatusOK] - r.Status[http.StatusUnauthorized] - r.Status[http.StatusServiceUnavailable]
	fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, r.Requests, r.Throughput,
		ms(r.Ack.P50), ms(r.Ack.P90), ms(r.Ack.P99), ms(r.Ack.Max),
		r.Status[http.StatusOK], r.Status[http.StatusUnauthorized], r.Status[http.StatusServiceUnavailable], other, r.Errors, r.Wrong)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }
