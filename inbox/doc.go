// Package inbox owns porch's durable state: the raw-payload archive, the
// dedup window, the outbox of pending forwards, dead letters and the log of
// rejected requests, all in one embedded Badger store.
package inbox
