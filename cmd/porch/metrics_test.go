package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sample is one line of a scrape: a series and its value.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrapeSamples fetches /metrics from the admin listener at addr and
// flattens it into samples, histograms as their _bucket, _count and _sum
// series, the names PromQL selects.
func scrapeSamples(t *testing.T, addr string) []sample {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	var out []sample
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			add := func(suffix string, v float64, extra ...string) {
				ls := map[string]string{}
				for k, v := range labels {
					ls[k] = v
				}
				for i := 0; i+1 < len(extra); i += 2 {
					ls[extra[i]] = extra[i+1]
				}
				out = append(out, sample{name + suffix, ls, v})
			}
			switch {
			case m.Counter != nil:
				add("", m.Counter.GetValue())
			case m.Gauge != nil:
				add("", m.Gauge.GetValue())
			case m.Histogram != nil:
				h := m.Histogram
				add("_count", float64(h.GetSampleCount()))
				add("_sum", h.GetSampleSum())
				for _, b := range h.GetBucket() {
					add("_bucket", float64(b.GetCumulativeCount()), "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
				}
			}
		}
	}
	return out
}

// selector is a metric name with equality matchers, as written in an
// alert expression.
type selector struct {
	text   string
	name   string
	labels map[string]string
}

var (
	selectorRE = regexp.MustCompile(`porch_[a-z0-9_]+(\{[^}]*\})?`)
	matcherRE  = regexp.MustCompile(`^\s*([a-z_]+)\s*="([^"]*)"\s*$`)
)

// alertSelectors reads every porch_ series selector in the alerts part of
// docs/operators.md, so the test follows the documented alerts.
func alertSelectors(t *testing.T) []selector {
	t.Helper()
	doc, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "Alerts worth paging on:")
	end := strings.Index(text, "## Sizing")
	if start < 0 || end < start {
		t.Fatal("docs/operators.md: no alerts section between \"Alerts worth paging on:\" and \"## Sizing\"")
	}
	var out []selector
	for _, m := range selectorRE.FindAllStringSubmatch(text[start:end], -1) {
		sel := selector{text: m[0], name: strings.TrimSuffix(m[0], m[1]), labels: map[string]string{}}
		if m[1] != "" {
			for _, part := range strings.Split(strings.Trim(m[1], "{}"), ",") {
				kv := matcherRE.FindStringSubmatch(part)
				if kv == nil {
					t.Fatalf("%s: only label=\"value\" matchers are checked here", m[0])
				}
				sel.labels[kv[1]] = kv[2]
			}
		}
		out = append(out, sel)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d selectors in the alerts section: %v", len(out), out)
	}
	return out
}

func (s selector) matches(x sample) bool {
	if x.name != s.name {
		return false
	}
	for k, v := range s.labels {
		if x.labels[k] != v {
			return false
		}
	}
	return true
}

// isCount reports whether a series counts events, so reads 0 before any.
func isCount(name string) bool {
	for _, suffix := range []string{"_total", "_bucket", "_count", "_sum"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return strings.HasPrefix(name, "porch_outbox_")
}

// checkAlertSeries fails unless every documented alert selector matches
// series in got, for each of sources and destinations where the series
// are per source or destination, and those that count events are 0.
func checkAlertSeries(t *testing.T, got []sample, sources, destinations []string) {
	t.Helper()
	for _, sel := range alertSelectors(t) {
		var matched []sample
		for _, x := range got {
			if sel.matches(x) {
				matched = append(matched, x)
			}
		}
		if len(matched) == 0 {
			t.Errorf("%s: no such series", sel.text)
			continue
		}
		for label, want := range map[string][]string{"source": sources, "destination": destinations} {
			if _, perLabel := matched[0].labels[label]; !perLabel {
				continue
			}
			for _, name := range want {
				if !hasLabel(matched, label, name) {
					t.Errorf("%s: no series for %s %q", sel.text, label, name)
				}
			}
		}
		for _, x := range matched {
			if isCount(x.name) && x.value != 0 {
				t.Errorf("%s%v = %v before any delivery, want 0", x.name, x.labels, x.value)
			}
		}
	}
}

func hasLabel(samples []sample, label, value string) bool {
	for _, x := range samples {
		if x.labels[label] == value {
			return true
		}
	}
	return false
}

// find returns the value of the series called name whose labels include
// labels.
func find(got []sample, name string, labels map[string]string) (float64, bool) {
	sel := selector{name: name, labels: labels}
	for _, x := range got {
		if sel.matches(x) {
			return x.value, true
		}
	}
	return 0, false
}

// TestFreshGatewayMetrics scrapes the real binary right after it started:
// every series the documented alerts read is there at 0 for each
// configured source and destination, porch_build_info names the build as
// `porch version` does, porch_store_size_bytes agrees with du, and the
// admin listener answers /readyz without a token.
func TestFreshGatewayMetrics(t *testing.T) {
	bin := buildPorch(t)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startPorch(t, bin, writeProcConfig(t, dir, testConfig(data, sink.URL)))
	if code := getStatus(t, http.DefaultClient, "http://"+p.admin+"/readyz"); code != http.StatusOK {
		t.Errorf("admin /readyz = %d, want 200", code)
	}
	got := scrapeSamples(t, p.admin)
	checkAlertSeries(t, got, []string{"koji", "gather"}, []string{"app", "koji-only"})
	for _, dest := range []string{"app", "koji-only"} {
		if v, ok := find(got, "porch_outbox_depth", map[string]string{"destination": dest}); !ok || v != 0 {
			t.Errorf("porch_outbox_depth{destination=%q} = %v (found %v), want 0", dest, v, ok)
		}
	}
	checkBuildInfo(t, bin, got)
	checkStoreSize(t, data, got)
}

// checkBuildInfo compares porch_build_info with what `porch version`
// prints.
func checkBuildInfo(t *testing.T, bin string, got []sample) {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("porch version: %v", err)
	}
	m := regexp.MustCompile(`^porch (\S+) \(commit (\S+), (\S+) `).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("porch version printed %q", out)
	}
	want := map[string]string{"version": m[1], "commit": m[2], "goversion": m[3]}
	if v, ok := find(got, "porch_build_info", want); !ok || v != 1 {
		t.Errorf("porch_build_info%v = %v (found %v), want 1", want, v, ok)
	}
}

// checkStoreSize compares porch_store_size_bytes with du's count of the
// data directory: within a factor of two, where the apparent size of
// Badger's sparse value log is thousands of times larger.
func checkStoreSize(t *testing.T, data string, got []sample) {
	t.Helper()
	size, ok := find(got, "porch_store_size_bytes", nil)
	if !ok {
		t.Fatal("no porch_store_size_bytes")
	}
	out, err := exec.Command("du", "-sk", data).Output()
	if err != nil {
		t.Fatalf("du: %v", err)
	}
	kib, err := strconv.ParseFloat(strings.Fields(string(out))[0], 64)
	if err != nil {
		t.Fatalf("du printed %q", out)
	}
	du := kib * 1024
	if size <= 0 || size > 2*du || size < du/2 {
		t.Errorf("porch_store_size_bytes = %.0f, du -sk %s = %.0f bytes; want within a factor of 2", size, data, du)
	}
}

// TestReloadDeclaresNewSeries: a reload that adds a source and a
// destination gives them the alert series at 0 from then on.
func TestReloadDeclaresNewSeries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "porch.yaml")
	base := opsConfig(filepath.Join(dir, "data"), `["s1"]`, "")
	writeConfig(t, path, base)
	m := startFromFile(t, path)
	writeConfig(t, path, strings.Replace(base, "destinations:\n", `  - name: koji-eu
    provider: koji
    secrets: ["s2"]
destinations:
  - name: audit
    url: "http://127.0.0.1:9/none"
    match: ["koji-eu:*"]
    secret: "whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ=="
`, 1))
	if code, res := adminReload(t, m); code != http.StatusOK {
		t.Fatalf("reload: %d %v", code, res)
	}
	checkAlertSeries(t, scrapeSamples(t, m.Admin.Addr()), []string{"koji", "koji-eu"}, []string{"app", "audit"})
}
