package inbox

import "errors"

// Errors callers branch on.
var (
	// ErrNotFound means no event (or delivery, or record) has that id.
	ErrNotFound = errors.New("not found")
	// ErrClosed means the store is closed or closing.
	ErrClosed = errors.New("inbox closed")
	// ErrNotDurable means a delivery could not be confirmed on disk in
	// time, or the disk refused it. Nothing half-written is left: the
	// delivery is either wholly stored or not at all, and a retry of it
	// will say which.
	ErrNotDurable = errors.New("not durable")
)
