package main

import (
	"context"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

func init() {
	register("check-config", "validate a config and print it, secrets masked; exit 0 valid, 2 invalid, 1 database unreachable or files unusable", runCheckConfig)
}

func runCheckConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check-config", "--config FILE [--allow-dev-secrets]", stdout, stderr)
	path := configFlag(fs)
	allowDev := allowDevSecretsFlag(fs)
	cfg, code, ok := loadConfigFlag(fs, path, args)
	if !ok {
		return code
	}
	if err := cfg.DevSecretsError(); err != nil && !*allowDev {
		fmt.Fprintf(stderr, "porch check-config: %s: porch serve would refuse to start: %v\n", *path, err)
		return 2
	}
	out, err := yaml.Marshal(cfg.Masked())
	if err != nil {
		fmt.Fprintf(stderr, "porch check-config: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# %s is valid. Effective config, secrets masked:\n%s", *path, out)
	host := hostProblems(cfg, true)
	for _, err := range host {
		fmt.Fprintf(stderr, "porch check-config: %v: porch serve would refuse to start\n", err)
	}
	if !reportStore(ctx, cfg, stderr) || len(host) > 0 {
		return 1
	}
	if keys := cfg.PublicSecrets(); len(keys) > 0 {
		fmt.Fprintf(stderr, "warning: these keys use the example's public development secrets; set their environment variables before exposing porch: %v\n", keys)
	}
	return 0
}
