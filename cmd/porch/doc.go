// Command porch is the webhook ingestion gateway's single binary.
//
// This package owns the config file (YAML schema, defaults, ${VAR}
// expansion, validation that names the offending key), the logger, the
// wiring of inbox, gateway and forward in Main, signal handling, and the
// subcommands. Nothing imports it; it maps the YAML onto each package's own
// typed Config.
package main
