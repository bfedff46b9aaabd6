package postgres

import (
	"context"
	"strings"
	"testing"
)

func TestMaskURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://porch:s3cr3t@db.internal:5432/porch?sslmode=require", "postgres://porch:xxxxx@db.internal:5432/porch?sslmode=require"},
		{"postgresql://porch@db/porch?password=s3cr3t", "postgresql://porch@db/porch?password=xxxxx"},
		{"postgres:///porch_test?host=/var/run/postgresql", "postgres:///porch_test?host=%2Fvar%2Frun%2Fpostgresql"},
		{"host=db user=porch password=s3cr3t dbname=porch", "host=db user=porch password=xxxxx dbname=porch"},
		{"host=db password='s3 cr3t' dbname=porch", "host=db password=xxxxx dbname=porch"},
		{"postgres://porch:s3cr3t@db:notaport/porch", "postgres://porch:xxxxx@db:notaport/porch"},
	} {
		if got := MaskURL(c.in); got != c.want || strings.Contains(got, "s3") {
			t.Errorf("MaskURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Errors from Open, Migrate and Check never carry the password, whether
// the connection string cannot be parsed or the server cannot be reached.
func TestErrorsMaskPassword(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{
		"postgres://porch:s3cr3t-pw@/porch?host=/nonexistent-porch-socket-dir",
		"postgres://porch:s3cr3t-pw@db:notaport/porch",
		"host=/nonexistent-porch-socket-dir user=porch password=s3cr3t-pw dbname=porch",
		"host=/nonexistent-porch-socket-dir password='s3cr3t-pw",
	} {
		_, err := Open(ctx, url, Options{})
		_, _, merr := Migrate(ctx, url)
		_, cerr := Check(ctx, url)
		for _, err := range []error{err, merr, cerr} {
			if err == nil {
				t.Fatalf("%s: no error", MaskURL(url))
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the password: %v", err)
			}
		}
	}
}
