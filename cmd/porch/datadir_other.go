//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "os"

// dirLocked is false where flock is not available; opening the store
// still fails when another process holds it.
func dirLocked(string) bool { return false }

// lockDir creates dir; where flock is not available it holds no lock.
func lockDir(dir string) (release func(), err error) {
	return func() {}, os.MkdirAll(dir, 0o700)
}
