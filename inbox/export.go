package inbox

import (
	"encoding/json"
	"io"
)

// Record is one line of an archive export: the event's metadata with its
// chain fields, and the raw body (base64 in JSON). It carries everything
// VerifyExport needs, so an export can be checked without the server.
type Record struct {
	*Event
	Body []byte `json:"body"`
}

// ExportEnd is the last line of a whole export, {"export_end": {...}}:
// how many records came before it and the last one's chain link. A stream
// cut short, at a line boundary or not, lacks it, and VerifyExport says
// so.
type ExportEnd struct {
	Records  int    `json:"records"`
	LastSeq  uint64 `json:"last_seq,omitempty"`
	LastHash string `json:"last_hash,omitempty"`
}

type exportEndLine struct {
	End *ExportEnd `json:"export_end"`
}

// ExportWriter writes an export to w: one line per Write, then End's line.
type ExportWriter struct {
	enc *json.Encoder
	end ExportEnd
}

// NewExportWriter returns a writer of an export to w.
func NewExportWriter(w io.Writer) *ExportWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &ExportWriter{enc: enc}
}

// Write writes rec's line.
func (x *ExportWriter) Write(rec Record) error {
	x.end.Records++
	x.end.LastSeq, x.end.LastHash = rec.Seq, rec.Hash
	return x.enc.Encode(rec)
}

// End writes the end line; call it only once every record is written.
func (x *ExportWriter) End() error { return x.enc.Encode(exportEndLine{&x.end}) }

// Records is how many records were written.
func (x *ExportWriter) Records() int { return x.end.Records }
