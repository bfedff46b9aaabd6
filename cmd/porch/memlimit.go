package main

import (
	"os"
	"runtime/debug"

	"github.com/sirupsen/logrus"
)

// setMemoryLimit gives the Go runtime a soft memory limit when the
// operator has not set GOMEMLIMIT: 80 MiB plus room for 16 bodies of the
// largest allowed size. Without it the heap grows to twice its live size
// between collections, and Badger's memtable arenas and table builders
// make the live size jump, so a gateway under load held 140-230 MiB
// resident where the limit keeps it under 128 MiB (README.md, Performance).
// 80 rather than 64 since bodies moved to the value log: the live heap is
// smaller, and the extra room made the GC run less often (+25 % acks/s
// with forwarding) for about 15 MiB more RSS.
// The limit is soft: with more live data than this the GC runs more
// often (its CPU share is capped by the runtime), nothing fails.
func setMemoryLimit(maxBodyBytes int64, log logrus.FieldLogger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(80<<20) + 16*maxBodyBytes
	debug.SetMemoryLimit(limit)
	log.WithField("bytes", limit).Debug("soft memory limit set (GOMEMLIMIT overrides)")
}
