// Package forward owns asynchronous delivery of archived events to
// internal handlers: routing events to destinations, building and signing
// the forwarded request (Standard Webhooks), scheduling attempts from the
// durable outbox, retry classification and backoff, per-destination
// circuit breaking and rate limiting, dead-lettering, and the seam where
// enrichment plugs in (Config.Prepare).
//
// Headers built from event data (X-Porch-Source, X-Porch-Event,
// X-Porch-Interview-Id) carry the value exactly or are left out: a value
// is sent only when it is 1 to 1024 bytes of printable ASCII with no
// space at either end. The body always carries the true value (the
// envelope's source, type and interview_id; for format raw, the
// provider's payload). Copied headers (format raw's archived ones, and
// enrichment's) that net/http cannot send are left out too, and
// connection headers (Connection, Expect, ...) are never copied. Format
// raw never passes on the client's X-Forwarded-For, X-Real-Ip, Forwarded
// or X-Forwarded-Host/-Proto: it sends X-Forwarded-For and X-Real-Ip set
// to the client address the gateway resolved through its trusted
// proxies, and neither when there is none.
//
// An event that still cannot become a request (a body that is not JSON
// for the envelope, or an event id that would not arrive unchanged as
// webhook-id, which the signature covers) fails permanently: it is
// dead-lettered before anything is sent, with the reason as its last
// error, and its destination's circuit does not count it. A replay fails
// the same way.
//
// One scheduler goroutine (Run) decides what starts: each pass it asks
// the store to Claim, per destination, as many due entries as may start
// now (concurrency, outcomes still being recorded, circuit state), and
// starts one attempt per entry returned. Each attempt runs on its own
// goroutine and reports back over a channel (its request over, its
// outcome recorded); only the scheduler changes the in-flight set, the
// per-destination counts and the circuits. The store returns only the head
// of each interview's queue for a destination, so an interview's events
// reach a destination in order. A claim's lease covers the attempt's whole
// budget plus ten seconds to prepare it and record its outcome (an
// attempt whose preparation overran its share is postponed unsent); an
// outcome that cannot be recorded leaves its entry claimed until the
// lease passes, and an attempt not made (shutdown) gives its claim back
// with Release. Entries for a destination not configured are never claimed:
// they stay queued, and are reported at start and on each reload.
//
// A destination's defaults (DefaultDestination) and the rules it must
// meet (Destination.Check, errors naming the field as the config file
// does) are written here alone; the config file loader starts from the
// one and reports the other.
//
// It reads and settles the outbox through the small Source and Settler
// interfaces, which every store engine implements. It must not import gateway,
// cmd/... or badger; it is the only package importing go-retryablehttp.
package forward
