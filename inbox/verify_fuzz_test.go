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
	f.Add([]byte(`{"export_end":{"records":0}}` + "\n"))
	f.Add([]byte(`{"export_end":{"records":1,"last_seq":1,"last_hash":"h"}}` + "\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := inbox.VerifyExport(bytes.NewReader(data))
		if err != nil {
			return
		}
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSuffix(l, "\r"); l != "" { // as bufio.ScanLines reads it
				lines = append(lines, l)
			}
		}
		if rep.OK && (rep.Checked != len(lines)-1 || !strings.HasPrefix(lines[len(lines)-1], `{"export_end":`)) {
			t.Fatalf("ok with %d checked of %d lines, the last not an end line", rep.Checked, len(lines))
		}
		if !rep.OK && rep.Broken == nil {
			t.Fatal("not ok but no break named")
		}
	})
}
