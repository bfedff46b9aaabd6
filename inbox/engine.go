package inbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Functions every store engine applies to an event the same way, so that
// an event archived by one engine reads, hashes and deduplicates as it
// would in another.

// DefaultDedupWindow is how long an engine remembers a dedup key unless
// configured otherwise.
const DefaultDedupWindow = 168 * time.Hour

// Prepare puts a new event in the form the archive stores and hashes:
// every text field the chain hash covers with invalid UTF-8 replaced as
// JSON stores it, and an event whose interview id or type is longer than
// any a provider sends quarantined (it then names no destinations).
// Engines call it before assigning the id and computing ChainHash.
//
// The replacement comes first so that the hash is over what the archive
// reads back: encoding/json writes an invalid byte as the escape \ufffd
// but a stored U+FFFD as itself, so a hash over the raw bytes would never
// verify. A sender writes the headers and the body's timestamp.
func Prepare(ev *Event) {
	ev.Source, ev.Type, ev.InterviewID = asStored(ev.Source), asStored(ev.Type), asStored(ev.InterviewID)
	ev.Provider, ev.RemoteAddr, ev.ContentType = asStored(ev.Provider), asStored(ev.RemoteAddr), asStored(ev.ContentType)
	ev.BodySHA256 = asStored(ev.BodySHA256)
	v := &ev.Verification
	v.Mode, v.Timestamp, v.TimestampUnit = asStored(v.Mode), asStored(v.Timestamp), asStored(v.TimestampUnit)
	ev.Headers = storedHeaders(ev.Headers)
	quarantineUnindexable(ev)
}

// storedHeaders returns h, or a copy of it with names and values as
// asStored makes them when any needs it, and nil for an empty map, which
// the archive reads back as none. h is the caller's: it is never changed.
// Of two names that read the same once replaced, the first in sorted
// order keeps its values (the gateway's names are canonical ASCII).
func storedHeaders(h map[string][]string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	clean := true
	for k, vs := range h {
		clean = clean && utf8.ValidString(k)
		for _, v := range vs {
			clean = clean && utf8.ValidString(v)
		}
	}
	if clean {
		return h
	}
	out := make(map[string][]string, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		sk := asStored(k)
		if _, ok := out[sk]; ok {
			continue
		}
		vs := make([]string, len(h[k]))
		for i, v := range h[k] {
			vs[i] = asStored(v)
		}
		if h[k] == nil {
			vs = nil
		}
		out[sk] = vs
	}
	return out
}

// BoundKey returns a dedup key as the archive records it: unchanged when
// 512 bytes or shorter, otherwise "%#" and its SHA-256 in hex.
func BoundKey(key string) string { return boundPart(key) }

// maxRecentSightings bounds the duplicate deliveries listed per event.
const maxRecentSightings = 20

// quarantineUnindexable quarantines an authentic event whose interview
// id or type is longer than any a provider sends (longer than
// MaxKeyPart): it is archived and indexed by hash, but not forwarded,
// since it would not fit a destination's request headers or routes. Like
// any quarantined event it names no destinations. A kept duplicate stays
// one: it is never forwarded either.
func quarantineUnindexable(ev *Event) {
	if ev.Status == StatusQuarantined || ev.Status == StatusDuplicate || (len(ev.InterviewID) <= MaxKeyPart && len(ev.Type) <= MaxKeyPart) {
		return
	}
	ev.Status, ev.Destinations = StatusQuarantined, nil
	ev.QuarantineReason = fmt.Sprintf("interview id or event type longer than %d bytes", MaxKeyPart)
}

// Answer is what an engine's group-commit writer sends back for one
// Accept: the outcome once its batch is committed, or why it is not.
type Answer struct {
	Result Result
	Err    error
}

// AwaitAnswer waits, once an Accept's request is queued, for the writer's
// answer on done (1-buffered). When ctx ends first the delivery is not
// known to be durable (ErrNotDurable); when the writer stopped (closed
// stopped) before answering, the store is closed (ErrClosed). An answer
// that arrives at the same moment as either is preferred.
func AwaitAnswer(ctx context.Context, done <-chan Answer, stopped <-chan struct{}) (Result, error) {
	select {
	case a := <-done:
		return a.Result, a.Err
	case <-ctx.Done():
		if a, ok := answered(done); ok {
			return a.Result, a.Err
		}
		return Result{}, fmt.Errorf("accept: waiting for commit: %w", ErrNotDurable)
	case <-stopped:
		if a, ok := answered(done); ok {
			return a.Result, a.Err
		}
		return Result{}, ErrClosed
	}
}

func answered(done <-chan Answer) (Answer, bool) {
	select {
	case a := <-done:
		return a, true
	default:
		return Answer{}, false
	}
}

// BodyKey is the dedup key of a delivery's exact bytes (their SHA-256 in
// lowercase hex), the last of every provider's keys: byte-identical
// deliveries are always duplicates.
func BodyKey(bodySHA256 string) string { return "body:" + bodySHA256 }

// DuplicateCopy is the rule both engines apply to a delivery ev that
// matched dedup key key of event first. When its bytes may differ from
// every delivery archived before (it matched by a logical key, and its
// body key is one bodyHeld says no event holds), it returns the event to
// archive for them: a copy of ev with StatusDuplicate, DuplicateOf first
// and no destinations, whose only dedup key is its body key, which the
// engines store as first's, so a resend of the same bytes is a sighting
// only. Otherwise it returns nil:
// the sighting on first is the whole record. Events porch made itself
// (reconciled) are never kept this way; their bytes are porch's.
func DuplicateCopy(ev *Event, key, first string, bodyHeld func(key string) (bool, error)) (*Event, error) {
	bk := BodyKey(ev.BodySHA256)
	if ev.Origin != OriginProvider || key == bk || !slices.Contains(ev.DedupKeys, bk) {
		return nil, nil
	}
	held, err := bodyHeld(bk)
	if err != nil || held {
		return nil, err
	}
	cp := *ev
	cp.Status, cp.DuplicateOf, cp.Destinations, cp.DedupKeys = StatusDuplicate, first, nil, []string{bk}
	return &cp, nil
}

// DedupExpiry is when the dedup keys ev claims in a window of length
// window leave it, ev accepted at now: a window after now, but a kept
// duplicate's key leaves with the event it names (whose id carries its
// time), so that retention, which keeps events at least a window, never
// removes an event a stored key still names.
func DedupExpiry(ev *Event, now time.Time, window time.Duration) time.Time {
	if ev.DuplicateOf != "" {
		if t := IDTime(ev.DuplicateOf); !t.IsZero() && t.Before(now) {
			return t.Add(window)
		}
	}
	return now.Add(window)
}

// ReplayDead replays, through s, every dead letter f selects (f.Limit caps
// how many) and says how many destinations were queued. A dead letter
// removed or changed since it was listed is skipped. Those whose
// destination r.Serves refuses are counted, left as they are and not
// held against the limit, so that repeated limited replays get through
// the rest. Engines implement Outbox.ReplayDead with it.
func ReplayDead(s interface {
	DeadLetters(f DeadLetterFilter) ([]DeadLetter, error)
	Replay(id, dest string, r ReplayRequest) ([]string, error)
}, f DeadLetterFilter, r ReplayRequest) (BulkReplay, error) {
	var out BulkReplay
	limit := f.Limit
	if r.Serves != nil {
		f.Limit = 0
	}
	dls, err := s.DeadLetters(f)
	if err != nil {
		return out, err
	}
	tried := 0
	for _, dl := range dls {
		if r.Serves != nil && !r.Serves(dl.Destination) {
			out.NotConfigured++
			continue
		}
		if limit > 0 && tried == limit {
			continue // counting the refused ones still
		}
		tried++
		q, err := s.Replay(dl.EventID, dl.Destination, r)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotForwardable) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("replay %s/%s: %w", dl.EventID, dl.Destination, err)
		}
		out.Queued += len(q)
	}
	return out, nil
}

// FillWithin appends to batch what arrives on ch within linger, until the
// batch holds max or Close begins, so that a trickle of writes shares
// one commit and its sync. The engines batch their background writes
// (settles, the rejection log) with it.
func FillWithin[T any](ch <-chan T, batch []T, max int, linger time.Duration, closing <-chan struct{}) []T {
	t := time.NewTimer(linger)
	defer t.Stop()
	for len(batch) < max {
		select {
		case x := <-ch:
			batch = append(batch, x)
		case <-t.C:
			return batch
		case <-closing:
			for len(batch) < max {
				select {
				case x := <-ch:
					batch = append(batch, x)
				default:
					return batch
				}
			}
		}
	}
	return batch
}
