package main

import (
	"errors"
	"fmt"
	"syscall"
)

// dataDirError turns the failure to open dir because another process
// holds it into "another porch is using DIR" with what to do (hint);
// other errors pass unchanged. Badger locks the directory (flock) while a
// store is open and fails a second open with EWOULDBLOCK; the Badger
// message alone does not say that the other process is a porch.
func dataDirError(dir string, err error, hint string) error {
	if err == nil || !(errors.Is(err, syscall.EWOULDBLOCK) || dirLocked(dir)) {
		return err
	}
	return fmt.Errorf("another porch is using %s; %s", dir, hint)
}
