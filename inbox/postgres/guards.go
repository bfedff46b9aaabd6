package postgres

import "github.com/porchgw/porch/inbox"

// The parts of inbox.Store this engine implements so far.
var (
	_ inbox.Ingest  = (*DB)(nil)
	_ inbox.Trail   = (*DB)(nil)
	_ inbox.Records = (*DB)(nil)
)
