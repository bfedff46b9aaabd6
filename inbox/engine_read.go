package inbox

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Functions and types that let every engine read, search and check the
// archive the same way.

// MaxRecentSightings bounds the duplicate deliveries Sightings lists.
const MaxRecentSightings = maxRecentSightings

// AsStored returns s as the archive stores and searches it: invalid
// UTF-8 replaced as JSON stores it.
func AsStored(s string) string { return asStored(s) }

// FoldCase maps s to the one case interview prefix searches compare in.
func FoldCase(s string) string { return foldCase(s) }

// FoldInterview is the key an interview id is indexed under for prefix
// searches: FoldCase of it, cut to at most 512 bytes on a rune boundary.
// The index holds only the start of a longer id, so a search compares
// FoldCase of the id itself for what lies beyond.
func FoldInterview(s string) string {
	s = foldCase(s)
	if len(s) > MaxKeyPart {
		n := MaxKeyPart
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}

// IDAt is the smallest event id that can carry time t: events archived
// at or after t have ids at or after it. Query.Since and Query.Until
// compare ids with it.
func IDAt(t time.Time) string { return idAt(t) }

// EncodeRejection is r as the rejection log stores it: its JSON,
// without headers when it would pass MaxRejectionBytes.
func EncodeRejection(r *Rejection) ([]byte, error) { return encodeRejection(r) }

// ChainCheck verifies events one at a time, in chain order, as Verify
// and VerifyExport do.
type ChainCheck struct{ c *chainCheck }

// NewChainCheck starts a check after the link (startSeq, startHash).
func NewChainCheck(startSeq uint64, startHash string) *ChainCheck {
	return &ChainCheck{c: newChainCheck(startSeq, startHash)}
}

// Next checks e, whose raw body is body (nil when missing), and returns
// the break it finds, nil when the link holds.
func (c *ChainCheck) Next(e *Event, body []byte) *Break { return c.c.next(e, body, 0) }

// Report is the outcome so far.
func (c *ChainCheck) Report() VerifyReport { return c.c.report() }

// ReportTo is Report for a walk that should have reached the recorded
// head (headSeq, headID): the head is written with its events, so a chain
// that stops short of it lost its newest events.
func (c *ChainCheck) ReportTo(headSeq uint64, headID string) VerifyReport {
	rep := c.Report()
	if rep.OK && headSeq > rep.LastSeq {
		rep.OK = false
		rep.Broken = &Break{ID: headID, Seq: headSeq,
			Problem: fmt.Sprintf("chain ends at seq %d but the recorded head is seq %d: newest events are missing", rep.LastSeq, headSeq)}
	}
	return rep
}
