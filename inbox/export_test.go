package inbox_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// exportOf writes n chained records with ExportWriter, and its end line
// when end is set.
func exportOf(t *testing.T, n int, end bool) string {
	t.Helper()
	var buf bytes.Buffer
	x := inbox.NewExportWriter(&buf)
	prev := inbox.GenesisHash
	for i := range n {
		body := []byte(`{"n":` + string(rune('0'+i)) + `}`)
		ev := &inbox.Event{ID: "01J" + string(rune('A'+i)), Seq: uint64(i + 1), Source: "koji", Type: "t",
			ReceivedAt: time.Unix(int64(i), 0).UTC(), BodySize: len(body), BodySHA256: sha256Hex(body), PrevHash: prev}
		ev.Hash = inbox.ChainHash(ev)
		prev = ev.Hash
		if err := x.Write(inbox.Record{Event: ev, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if end {
		if err := x.End(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func TestVerifyExportEndLine(t *testing.T) {
	whole := exportOf(t, 3, true)
	lines := strings.SplitAfter(whole, "\n")
	cases := []struct {
		name, file string
		ok         bool
		line       int // of the break
	}{
		{"whole", whole, true, 0},
		{"whole, no events", exportOf(t, 0, true), true, 0},
		{"cut after a record", strings.Join(lines[:2], ""), false, 3},
		{"cut inside a record", whole[:len(lines[0])+10], false, 2},
		{"empty file", "", false, 1},
		{"end line only, claiming records", lines[3], false, 1},
		{"a record dropped before the end line", lines[0] + lines[1] + lines[3], false, 3},
		{"a line after the end line", whole + lines[0], false, 5},
		{"end line twice", whole + lines[3], false, 5},
		{"end line garbled", strings.Join(lines[:3], "") + `{"export_end":7}` + "\n", false, 4},
	}
	for _, c := range cases {
		rep, err := inbox.VerifyExport(strings.NewReader(c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rep.OK != c.ok || (!c.ok && (rep.Broken == nil || rep.Broken.Line != c.line)) {
			t.Errorf("%s: ok %v, broken %+v; want ok %v, break at line %d", c.name, rep.OK, rep.Broken, c.ok, c.line)
		}
		if c.name == "cut after a record" && !strings.HasPrefix(rep.Broken.String(), "line 3: the export ends without its end line") {
			t.Errorf("%s: break reads %q", c.name, rep.Broken)
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestBoundAccessCutsOnlyWhatIsLong(t *testing.T) {
	ids := []string{"01J", strings.Repeat("i", 200)}
	a := inbox.BoundAccess(inbox.Access{Query: strings.Repeat("\x80", 5000), EventIDs: ids})
	if len(a.Query) < inbox.MaxTrailQueryBytes-3 || !strings.HasSuffix(a.Query, "…") {
		t.Errorf("query of continuation bytes cut to %d bytes", len(a.Query))
	}
	if ids[1] != strings.Repeat("i", 200) || a.EventIDs[0] != "01J" || len(a.EventIDs[1]) > 128+len("…") {
		t.Errorf("ids %q, caller's %q", a.EventIDs, ids)
	}
	if q := inbox.BoundAccess(inbox.Access{Query: strings.Repeat("é", 3000)}).Query; !strings.HasSuffix(q, "é…") {
		t.Errorf("cut inside a character: %q", q[len(q)-8:])
	}
}
