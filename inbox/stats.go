package inbox

import (
	"time"
)

// OutboxStat is the backlog of one destination.
type OutboxStat struct {
	// Depth is how many forwards are pending (queued or waiting to retry).
	Depth int
	// Oldest is when the oldest pending event was received (from its
	// time-ordered id); zero when Depth is 0.
	Oldest time.Time
}
