package inbox

// PruneReport says what one retention pass did.
type PruneReport struct {
	Removed int `json:"removed"`
	// HeldBy is the oldest event kept back because a delivery of it is
	// still pending; empty when nothing old is waiting.
	HeldBy     string `json:"held_by,omitempty"`
	Checkpoint uint64 `json:"checkpoint_seq"`
}
