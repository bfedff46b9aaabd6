// Command porch is the webhook ingestion gateway's single binary.
//
// This package owns the config file (YAML schema, ${VAR} expansion, the
// rules that span keys or belong to the file alone, and error messages
// that name the offending key), the logger, the wiring of inbox, gateway
// and forward in Main, signal handling, and the subcommands. Nothing
// imports it. A value or rule a package owns (forward's destinations,
// enrich's enrich blocks, gateway's listener, sources and TLS, inbox's
// store options) is not repeated here: the file starts from the package's
// defaults, maps the YAML onto the package's typed config and reports the
// package's field errors under the YAML key path.
package main
