package inbox

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// Break names the first link of the archive chain that does not hold.
type Break struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
	// Line is the 1-based line of an export file; 0 for the live archive.
	Line int `json:"line,omitempty"`
	// Problem says what differs, e.g. "body_sha256 does not match the
	// stored body".
	Problem string `json:"problem"`
}

func (b *Break) String() string {
	at := fmt.Sprintf("event %s (seq %d)", b.ID, b.Seq)
	switch {
	case b.Line > 0 && b.ID == "" && b.Seq == 0: // a line that is no event's
		at = fmt.Sprintf("line %d", b.Line)
	case b.Line > 0:
		at = fmt.Sprintf("line %d, %s", b.Line, at)
	}
	return at + ": " + b.Problem
}

// VerifyReport is the outcome of a chain check.
type VerifyReport struct {
	OK      bool `json:"ok"`
	Checked int  `json:"checked"`
	// StartSeq and StartHash are where the check began: the retention
	// checkpoint (or genesis) for the archive, the first record's
	// prev_hash for an export.
	StartSeq  uint64 `json:"start_seq"`
	StartHash string `json:"start_hash"`
	// LastSeq and LastHash are the last link that verified.
	LastSeq  uint64 `json:"last_seq"`
	LastHash string `json:"last_hash"`
	Broken   *Break `json:"broken,omitempty"`
}

// chainCheck checks events one at a time, in chain order.
type chainCheck struct {
	rep     VerifyReport
	started bool
}

func newChainCheck(startSeq uint64, startHash string) *chainCheck {
	c := &chainCheck{rep: VerifyReport{StartSeq: startSeq, StartHash: startHash, LastSeq: startSeq, LastHash: startHash}}
	c.started = startHash != ""
	return c
}

// next checks e, whose raw body is body (nil when missing), and returns
// the break it finds.
func (c *chainCheck) next(e *Event, body []byte, line int) *Break {
	if !c.started { // an export checked offline starts from its first record
		c.started = true
		c.rep.StartSeq, c.rep.StartHash = e.Seq-1, e.PrevHash
		c.rep.LastSeq, c.rep.LastHash = e.Seq-1, e.PrevHash
	}
	br := func(format string, a ...any) *Break {
		c.rep.Broken = &Break{ID: e.ID, Seq: e.Seq, Line: line, Problem: fmt.Sprintf(format, a...)}
		return c.rep.Broken
	}
	switch {
	case e.Seq != c.rep.LastSeq+1:
		return br("seq %d follows seq %d: events are missing or reordered", e.Seq, c.rep.LastSeq)
	case e.PrevHash != c.rep.LastHash:
		return br("prev_hash %s is not the hash of seq %d (%s)", e.PrevHash, c.rep.LastSeq, c.rep.LastHash)
	case body == nil && e.BodySize > 0:
		return br("raw body is missing")
	case len(body) != e.BodySize:
		return br("raw body is %d bytes, body_size says %d", len(body), e.BodySize)
	case sha256Hex(body) != e.BodySHA256:
		return br("raw body hashes to %s, body_sha256 says %s", sha256Hex(body), e.BodySHA256)
	}
	if h := ChainHash(e); h != e.Hash {
		return br("metadata hashes to %s, hash says %s: a chained field was altered", h, e.Hash)
	}
	c.rep.Checked++
	c.rep.LastSeq, c.rep.LastHash = e.Seq, e.Hash
	return nil
}

func (c *chainCheck) report() VerifyReport {
	c.rep.OK = c.rep.Broken == nil
	return c.rep
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// VerifyExport checks an NDJSON export (as written by the export API)
// without the server: the chain from the first record's prev_hash to the
// last record, then the end line, which must follow the last record and
// agree with what came before it. An export that starts mid-archive
// verifies from where it starts; one cut short is reported broken where
// its end line is missing. An error means the input could not be read; a
// malformed line is reported as a break.
func VerifyExport(r io.Reader) (VerifyReport, error) {
	c := newChainCheck(0, "")
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	var end *ExportEnd
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		if end != nil {
			c.rep.Broken = &Break{Line: line, Problem: "a line follows the export's end line"}
			return c.report(), nil
		}
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"export_end":`)) {
			var e exportEndLine
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.End == nil {
				c.rep.Broken = &Break{Line: line, Problem: fmt.Sprintf("not an export end line: %v", err)}
				return c.report(), nil
			}
			if e.End.Records != c.rep.Checked || e.End.LastSeq != c.rep.LastSeq || e.End.LastHash != c.rep.LastHash {
				c.rep.Broken = &Break{Line: line, Problem: fmt.Sprintf("the end line names %d records ending at seq %d, hash %s; the file holds %d ending at seq %d",
					e.End.Records, e.End.LastSeq, e.End.LastHash, c.rep.Checked, c.rep.LastSeq)}
				return c.report(), nil
			}
			end = e.End
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Event == nil || rec.ID == "" {
			problem := "not an export record"
			if err != nil {
				problem += ": " + err.Error()
			}
			c.rep.Broken = &Break{Line: line, Problem: problem}
			return c.report(), nil
		}
		if rec.Body == nil {
			rec.Body = []byte{}
		}
		if c.next(rec.Event, rec.Body, line) != nil {
			return c.report(), nil
		}
	}
	if err := sc.Err(); err != nil {
		return c.report(), fmt.Errorf("read export: %w", err)
	}
	if end == nil {
		c.rep.Broken = &Break{Line: line + 1, Problem: "the export ends without its end line: it was cut short, or written by a porch that did not write one"}
	}
	return c.report(), nil
}
