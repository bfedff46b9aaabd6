package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porchgw/porch/gateway"
)

// TestSendTestAgainstTheGateway: every documented event of each provider,
// signed by send-test, is accepted by the real gateway; a Koji event sent
// twice for one interview is a duplicate; an undocumented event is a
// usage error.
func TestSendTestAgainstTheGateway(t *testing.T) {
	dir := t.TempDir()
	yaml := testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:9/unused")
	m, _ := startMain(t, yaml)
	cfg := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, provider := range []string{"koji", "gather"} {
		def, _ := gateway.Lookup(provider)
		code, out, errs := cli(runSendTest, "--config", cfg, "--source", provider, "--url", "http://"+m.Gateway.Addr()+"/in/"+provider)
		if code != 0 || strings.Count(out, " 200 {") != len(def.Events) {
			t.Errorf("%s: exit %d, want %d answers of 200:\n%s%s", provider, code, len(def.Events), out, errs)
		}
	}
	url := "http://" + m.Gateway.Addr() + "/in/koji"
	args := []string{"--config", cfg, "--source", "koji", "--event", "interview.completed", "--interview-id", "iv-twice", "--url", url}
	if code, out, _ := cli(runSendTest, args...); code != 0 || !strings.Contains(out, `"duplicate":false`) {
		t.Errorf("first: %d %s", code, out)
	}
	if code, out, _ := cli(runSendTest, args...); code != 0 || !strings.Contains(out, `"duplicate":true`) {
		t.Errorf("second: %d %s", code, out)
	}
	// Every Gather event sent twice for one interview: all duplicates.
	gurl := "http://" + m.Gateway.Addr() + "/in/gather"
	gargs := []string{"--config", cfg, "--source", "gather", "--interview-id", "gat-twice", "--url", gurl}
	if code, out, _ := cli(runSendTest, gargs...); code != 0 || strings.Contains(out, `"duplicate":true`) {
		t.Errorf("gather first: %d %s", code, out)
	}
	gdef, _ := gateway.Lookup("gather")
	if code, out, _ := cli(runSendTest, gargs...); code != 0 || strings.Count(out, `"duplicate":true`) != len(gdef.Events) {
		t.Errorf("gather second: %d, want %d duplicates:\n%s", code, len(gdef.Events), out)
	}
	code, _, errs := cli(runSendTest, "--config", cfg, "--source", "koji", "--event", "nope.event", "--url", url)
	if code != 2 || !strings.Contains(errs, `koji documents no event "nope.event"`) || !strings.Contains(errs, "interview.completed") {
		t.Errorf("unknown event: %d %q", code, errs)
	}
	if code, _, errs := cli(runSendTest, "--config", cfg, "--source", "nope"); code != 2 || !strings.Contains(errs, `no source named "nope"`) {
		t.Errorf("unknown source: %d %q", code, errs)
	}
}

// TestSendTestResendFitsMaxBodyAge: with --interview-id the body time is
// fixed so a resend is a duplicate; under a koji max_body_age shorter than
// a day it must still be young enough to be accepted, at any time of day.
func TestSendTestResendFitsMaxBodyAge(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:9/unused"),
		"    provider: koji\n", "    provider: koji\n    max_body_age: 1h\n", 1)
	m, _ := startMain(t, yaml)
	cfg := filepath.Join(dir, "porch.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", cfg, "--source", "koji", "--event", "interview.completed", "--interview-id", "iv-young", "--url", "http://" + m.Gateway.Addr() + "/in/koji"}
	for _, want := range []string{`"duplicate":false`, `"duplicate":true`} {
		if code, out, errs := cli(runSendTest, args...); code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want %s:\n%s%s", code, want, out, errs)
		}
	}
}
