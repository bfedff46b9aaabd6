package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	for _, tt := range []struct {
		name            string
		version, commit string
		info            *debug.BuildInfo
		wantV, wantC    string
		wantModified    bool
	}{
		{"ldflags win", "v1.2.0", "abc123", vcs("def456", "true"), "v1.2.0", "abc123", false},
		{"ldflags version, vcs commit", "v1.2.0", "", vcs("def456", "false"), "v1.2.0", "def456", false},
		{"local build in a checkout", "dev", "", vcs("def456", "true"), "dev", "def456", true},
		{"go install module@version", "dev", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.1"}}, "v1.3.1", "unknown", false},
		{"go install module@version with vcs", "dev", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206-abcdef"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abcdef"}}}, "v0.0.0-20261206-abcdef", "abcdef", false},
		{"no build info", "dev", "", nil, "dev", "unknown", false},
		{"nothing recorded", "dev", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev", "unknown", false},
	} {
		v, c, m := buildVersion(tt.version, tt.commit, tt.info)
		if v != tt.wantV || c != tt.wantC || m != tt.wantModified {
			t.Errorf("%s: got %q %q %v, want %q %q %v", tt.name, v, c, m, tt.wantV, tt.wantC, tt.wantModified)
		}
	}
}

// TestVersionLdflags builds the binary with the version set the way a
// release build sets it and runs both spellings.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short")
	}
	bin := filepath.Join(t.TempDir(), "porch")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123abc", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil || !strings.HasPrefix(string(out), "porch v9.8.7 (commit 0123abc, go") {
			t.Errorf("porch %s: %v %q", arg, err, out)
		}
	}
}
