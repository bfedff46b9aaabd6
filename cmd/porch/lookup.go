package main

import "net"

// source returns the configured source called name.
func (c *Config) source(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// selfURL is the base URL of this config's own ingest listener, for
// commands run on the same machine. A wildcard host means loopback.
func (c *Config) selfURL() string {
	scheme := "http"
	if c.TLS.Enabled() {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return scheme + "://" + c.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// adminURL is the base URL of this config's admin listener.
func (c *Config) adminURL() string {
	host, port, err := net.SplitHostPort(c.AdminListen)
	if err != nil {
		return "http://" + c.AdminListen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
