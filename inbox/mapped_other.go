//go:build !linux

package inbox

// trimLoop is Linux only (mapped_linux.go): elsewhere the value log's
// mapped pages stay in the RSS until the kernel reclaims them.
func (db *DB) trimLoop() { db.wg.Done() }
