// Package loadgen owns load generation and latency statistics for
// `porch bench`: it drives a running gateway with deliveries signed
// exactly as the providers sign them, measures ack latency and status
// counts, runs a sink that stands in for a destination (forward
// throughput and receive-to-forward latency), runs a bare net/http
// baseline (the durable baseline, which verifies with gateway and commits
// into Badger, lives in cmd/porch), and samples a process's resident
// memory.
//
// It imports sender for what the providers send (sample bodies and
// signing); it must not import gateway, inbox, forward or cmd.
// Generators are owned by one goroutine each; Run, Sink and RSSSampler
// are safe for concurrent use.
package loadgen
