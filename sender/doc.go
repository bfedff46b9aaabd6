// Package sender knows what each provider sends: its event types, its
// signature header and how it signs a body, and realistic sample bodies
// (compact, as JSON.stringify writes them). The load tool (loadgen) and
// `porch send-test` build deliveries with it, the Gather reconciler
// recreates a missed delivery with it, and gateway's verification shares
// its signing primitive, header names and event lists.
//
// It imports nothing of porch's, so that the load tool need not import
// gateway. Everything in it is safe for concurrent use.
package sender
