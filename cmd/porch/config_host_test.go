package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check-config finds what serve would stop on in this machine's files,
// naming the YAML keys; serve names data_dir too.
func TestHostProblemsNameTheirKeys(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	selfSigned(t, certFile, keyFile)
	for _, tc := range []struct {
		name, dataDir, tls string
		want               string // "" means no problem
	}{
		{"fine", filepath.Join(dir, "data"), "tls: {cert_file: " + certFile + ", key_file: " + keyFile + "}\n", ""},
		{"missing certificate", filepath.Join(dir, "data"), "tls: {cert_file: " + filepath.Join(dir, "none.pem") + ", key_file: " + keyFile + "}\n", "tls.cert_file, tls.key_file: cannot load"},
		{"key for the certificate swapped", filepath.Join(dir, "data"), "tls: {cert_file: " + keyFile + ", key_file: " + certFile + "}\n", "tls.cert_file, tls.key_file: cannot load"},
		{"data_dir a file", notDir, "", "data_dir: " + notDir + " is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "porch.yaml")
			writeConfig(t, path, opsConfig(tc.dataDir, `["s1"]`, tc.tls))
			code, _, stderr := cli(runCheckConfig, "--config", path)
			switch {
			case tc.want == "" && code != 0:
				t.Errorf("check-config: exit %d: %s", code, stderr)
			case tc.want != "" && (code != 1 || !strings.Contains(stderr, tc.want)):
				t.Errorf("check-config: exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
			if strings.HasPrefix(tc.want, "data_dir") {
				code, _, stderr := cli(runServe, "--config", path)
				if code != 1 || !strings.Contains(stderr, tc.want) {
					t.Errorf("serve: exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
				}
			}
		})
	}
}
