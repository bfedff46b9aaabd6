//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

// dirLocked is false where flock is not available; opening the store
// still fails when another process holds it.
func dirLocked(string) bool { return false }
