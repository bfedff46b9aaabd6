// Package loadgen owns load generation and latency statistics for
// `porch bench`: it drives a running gateway with deliveries signed
// exactly as the providers sign them, measures ack latency and status
// counts, runs a sink that stands in for a destination (forward
// throughput and receive-to-forward latency), runs two baselines (a bare
// net/http handler, and a minimal durable receiver that verifies and
// group-commits into Badger), and samples a process's resident memory.
//
// It imports sender for what the providers send (sample bodies and
// signing); it must not import gateway, inbox, forward or cmd.
// Generators are owned by one goroutine each; Run, Sink and RSSSampler
// are safe for concurrent use.
package loadgen
