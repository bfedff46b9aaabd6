package forward

import (
	"context"
	"encoding/json"
	"time"

	"github.com/porchgw/porch/inbox"
)

// PrepareFunc is the enrichment seam: it runs before every attempt of
// every event (the body is already loaded in ev.Body), and may add data
// to the request or postpone it. It must be safe for concurrent use and
// must not modify ev.
//
// An error postpones the attempt by the destination's backoff without
// spending an attempt, and is logged; a PrepareResult with a non-zero
// WaitUntil postpones it to that time, also without spending one.
type PrepareFunc func(ctx context.Context, ev *inbox.Event) (PrepareResult, error)

// PrepareResult is what a PrepareFunc adds to one attempt.
type PrepareResult struct {
	// Interview, when non-empty, becomes the envelope's "interview"
	// field (ignored for format raw). It must be JSON.
	Interview json.RawMessage
	// Header is added to the request (porch's own headers win).
	Header map[string][]string
	// WaitUntil, when set, postpones the attempt to that time.
	WaitUntil time.Time
}
