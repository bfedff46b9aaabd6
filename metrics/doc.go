// Package metrics owns porch's Prometheus instrumentation: one
// non-global registry, every series' name, help text and labels, and the
// collectors, so that gateway, inbox, forward and enrich never import
// Prometheus. cmd/porch wires the other packages to it.
//
// Values reach it in two ways, chosen by what they are:
//
//   - Events are pushed through a hook the component declares, and this
//     package implements the hook with the Prometheus types it owns. The
//     ingest listener calls gateway.Config.Observe once per request with
//     its Outcome (ObserveDelivery). The forwarder already reports every
//     settled attempt through its Settler, so SettlerWith wraps the store
//     behind that interface rather than adding a second hook to forward.
//     A hook sees each event once, with its labels, when it happens.
//   - Values a component keeps anyway are read at each scrape by a
//     collector declared here: the store's size, readiness and outbox
//     backlog (RegisterStore), the access trail's drops
//     (NewTrailCollector), and the plain counters enrich and the ingest
//     listener keep for their own use and tests (RegisterEnrich,
//     RegisterIngest). Reading them at scrape costs the component
//     nothing per event and cannot drift from its own count.
//
// A component never names a series: names and help strings live here,
// and every collector is checked (it describes its series), so a clash
// is refused at Register rather than failing a scrape.
//
// Every Observe method is safe for concurrent use. Label values come from
// configuration (source and destination names, outcomes from a fixed set),
// never from request input, so cardinality is bounded by the config.
//
// Package metrics may import gateway, inbox and enrich for their types;
// nothing but cmd imports it.
package metrics
