package inbox_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox"
)

// FuzzVerifyExport feeds arbitrary files to the offline verifier: it must
// never panic, and must never call a file intact unless every record
// verified.
func FuzzVerifyExport(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"id":"x","seq":1,"prev_hash":"00","hash":"h","body":"e30=","body_size":2}` + "\n"))
	f.Add([]byte("null\n[1,2]\n\"s\"\n"))
	f.Add([]byte(`{"seq":18446744073709551615,"body":"!!"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := inbox.VerifyExport(bytes.NewReader(data))
		if err != nil {
			return
		}
		lines := 0
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSuffix(l, "\r") != "" { // as bufio.ScanLines reads it
				lines++
			}
		}
		if rep.OK && rep.Checked != lines {
			t.Fatalf("ok with %d checked of %d lines", rep.Checked, lines)
		}
		if !rep.OK && rep.Broken == nil {
			t.Fatal("not ok but no break named")
		}
	})
}
