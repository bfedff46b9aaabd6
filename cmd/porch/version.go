package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=...". Left as they are,
// buildVersion falls back to what the Go toolchain recorded in the binary.
var (
	version = "dev"
	commit  = ""
)

func init() {
	register("version", "print version, commit and Go version (also porch --version)", runVersion)
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "", stdout, stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	v, c := builtFrom()
	fmt.Fprintf(stdout, "porch %s (commit %s, %s %s/%s)\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}

// builtFrom is the version and commit porch reports, in `porch version`
// and porch_build_info: see buildVersion.
func builtFrom() (v, c string) {
	info, _ := debug.ReadBuildInfo()
	v, c, modified := buildVersion(version, commit, info)
	if modified {
		c += ", modified"
	}
	return v, c
}

// buildVersion is the version and commit to report: the -ldflags values
// when they were set, else the module version that `go install
// module@version` records (not "(devel)", which a local build records),
// and the VCS revision and modified flag that `go build` in a checkout
// records. info may be nil.
func buildVersion(version, commit string, info *debug.BuildInfo) (v, c string, modified bool) {
	v, c = version, commit
	if info == nil {
		if c == "" {
			c = "unknown"
		}
		return v, c, false
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if c == "" {
				c = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true" && commit == ""
		}
	}
	if c == "" {
		c = "unknown"
	}
	return v, c, modified
}
