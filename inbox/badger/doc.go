// Package badger is porch's embedded store engine: the raw-payload
// archive, the dedup window, the outbox of pending forwards, dead letters,
// the access trail and the log of rejected requests, all in one Badger
// database in a local directory that one porch process owns. It
// implements inbox.Store (DB), and owns backup and restore of that
// directory (Backup, Restore) and its retention loop (Prune).
//
// It and cmd/porch (whose bench builds a bare Badger baseline) are the
// only packages that import Badger. It imports inbox for the domain
// types and the rules every engine shares, and must not import gateway,
// forward, admin, cmd, net/http, gorilla/mux or go-retryablehttp.
//
// # Guarantees
//
// Accept is the promise behind every 200: when it returns nil, the event,
// its dedup keys and its outbox entries were written in one transaction
// and fsynced. Concurrent Accepts are group-committed by one writer
// goroutine (one transaction and one fsync per batch), which also makes
// dedup exact: two identical deliveries arriving together yield one event.
// The writer checks a Bloom filter of every stored dedup key before asking
// Badger (dedupfilter.go); it only ever skips lookups of keys never stored.
// Outbox entries are removed only when a delivery succeeds or is
// dead-lettered, so forwarding is at least once across crashes. All
// methods are safe for concurrent use.
//
// # Forwarding
//
// The forwarder takes its work with Claim: due entries, at most as many
// per destination as it asks for, each the earliest queued event of its
// interview for its destination (an earlier one waiting for a retry holds
// the later ones back). A claimed entry is not returned again until it
// is settled (Ack, Retry, DeadLetter), given back (Release), or its lease
// has passed. Claims are kept in memory, since one process owns the
// store; a restart ends them all. A claim ends only after its settling
// commit returned, so no later Claim reads a snapshot that still shows
// the entry as due (claim.go).
//
// # Key layout
//
// Prefixes are short and fixed; numbers inside keys are 8-byte big-endian,
// so byte order is numeric order. Event ids are ULIDs assigned by the
// writer in commit order, so e/ order is receive order is chain order.
//
//	e/<id>                        event record: metadata (one JSON Event object)
//	                              then the raw body, exactly as received
//	b/<id>                        raw body bytes; older stores only (see record.go)
//	s/<id>                        duplicate sightings of the event (JSON)
//	d/<source>/<0xFF, 16 bytes>   id of the event holding the dedup key whose SHA-256 begins so;
//	                              TTL = dedup window (older stores: the key as text, keys.go)
//	xi/<source>/<interview>/<id>  index by interview id of older stores: no longer written, removed with its event
//	xt/<source>/<type>/<id>       index: by source and event type, and by source alone
//	xs/<status>/<id>              index: by status
//	xf/<folded interview>/<id>    index: by interview id, exact or a prefix in any case (foldPart:
//	                              case folded, cut at 512 bytes, escaped; never hashed)
//	m/head                        the newest event of the chain (seq, hash, id)
//	m/foldindex                   present once every event is in xf/ (backfilled on open)
//	m/checkpoint                  the newest link retention removed (seq, hash, id); Verify starts there
//	t/<seq>                       bounded access trail: who read what (token fingerprints only)
//	tq/<seq>, tk/<seq>            the trail's search and sensitive classes, each bounded apart (trail.go)
//	r/<seq>                       bounded log of rejected and control requests
//	o/<due>/<id>/<destination>    outbox: a pending forward, due at <due> (Unix ns)
//	oq/<destination>/<interview>/<seq>  the queued forwards of an interview, in receive order
//	dl/<id>/<destination>         where the forward of <id> to <destination> stands
//
// Components taken from payloads (interview id, type) never reach a key
// as they are when longer than 512 bytes: they are replaced by "%#" and
// their SHA-256 in hex, so no delivery can make a key Badger refuses and
// lookups stay exact; dedup keys are always stored hashed. Index components also have "%" and "/"
// escaped (%25, %2F). An event whose interview id or type is that long
// is archived and indexed but quarantined, not forwarded (keys.go).
//
// Files that add keys document them beside their prefix constants.
package badger
