package inbox

import "testing"

// openTest opens a store in a fresh temporary directory, closed when the
// test ends.
func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
