package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
)

// hostProblems checks what the config asks of this machine, which
// validation leaves alone (a config file is valid wherever it is read):
// data_dir, when it exists, is a directory, and with withTLS the TLS
// certificate and key load as a pair. Each problem names its YAML keys,
// so that check-config finds what serve would stop on. serve leaves TLS
// to the gateway, which reads the files once and names the keys itself.
func hostProblems(c *Config, withTLS bool) []error {
	var errs []error
	if withTLS && c.TLS.CertFile != "" && c.TLS.KeyFile != "" {
		if _, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile); err != nil {
			errs = append(errs, fmt.Errorf("tls.cert_file, tls.key_file: cannot load the certificate and key: %w", err))
		}
	}
	if fi, err := os.Stat(c.DataDir); err == nil && !fi.IsDir() {
		errs = append(errs, fmt.Errorf("data_dir: %s is not a directory", c.DataDir))
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("data_dir: %w", err))
	}
	return errs
}
