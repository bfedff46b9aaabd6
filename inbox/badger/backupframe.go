package badger

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
)

// A porch backup is Badger's backup stream in a frame, so that Restore
// can tell a whole backup from a cut one and a backup from any other
// file (Badger's stream has no header, end marker or checksum):
//
//	porch-badger-backup 2\n                              header: format and version (1: before records carried bodies)
//	<Badger's backup stream>
//	porch-badger-backup-end n=<20 digits> sha256=<64 hex>\n  trailer: the stream's length and SHA-256
//
// The trailer has a fixed length, so a reader finds it as the last
// trailerLen bytes without knowing the stream's length in advance.
const (
	frameMagic   = "porch-badger-backup "
	frameVersion = "2" // 2: event records carry their bodies (record.go)
	frameHeader  = frameMagic + frameVersion + "\n"
	// frameHeaderV1 is the header of backups of stores that kept bodies
	// apart; this porch restores them as they are.
	frameHeaderV1 = frameMagic + "1\n"
	trailerMagic  = "porch-badger-backup-end "
	trailerLen    = len(trailerMagic) + len("n=") + 20 + len(" sha256=") + 2*sha256.Size + len("\n")
)

var (
	// ErrNotBackup means a file does not start with porch's backup
	// header: it is not a porch backup, or one written before backups
	// were framed (see RestoreLegacy).
	ErrNotBackup = errors.New("not a porch backup")
	// ErrDamaged means a porch backup is not whole: it is empty, cut
	// short, has bytes after its end, or its length or SHA-256 does not
	// match its trailer.
	ErrDamaged = errors.New("backup incomplete or damaged")
)

// trailer is the frame's last line for a stream of n bytes with SHA-256 sum.
func trailer(n int64, sum []byte) []byte {
	return fmt.Appendf(nil, "%sn=%020d sha256=%x\n", trailerMagic, n, sum)
}

// frameWriter frames what Badger's Backup writes. The header goes out
// with the first byte of the stream, so a backup that fails before
// writing anything has written nothing (the admin route can still answer
// with an error status).
type frameWriter struct {
	w      io.Writer
	h      hash.Hash
	n      int64
	opened bool
}

func newFrameWriter(w io.Writer) *frameWriter {
	return &frameWriter{w: w, h: sha256.New()}
}

func (f *frameWriter) open() error {
	if f.opened {
		return nil
	}
	f.opened = true
	_, err := io.WriteString(f.w, frameHeader)
	return err
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if err := f.open(); err != nil {
		return 0, err
	}
	n, err := f.w.Write(p)
	f.h.Write(p[:n])
	f.n += int64(n)
	return n, err
}

// finish writes the trailer (and the header, for an empty stream). Only
// a backup whose stream was written in full may be finished.
func (f *frameWriter) finish() error {
	if err := f.open(); err != nil {
		return err
	}
	_, err := f.w.Write(trailer(f.n, f.h.Sum(nil)))
	return err
}

// frameReader reads the stream out of a framed backup. It checks the
// header on the first Read and holds back the last trailerLen bytes; it
// returns io.EOF only when they are the trailer of exactly the stream it
// returned, and ErrNotBackup or ErrDamaged otherwise.
type frameReader struct {
	br  *bufio.Reader
	h   hash.Hash
	n   int64
	err error // sticky: once set, every Read returns it
	hdr bool  // header read
}

// frameBuf is the reader's buffer: the look-ahead for the trailer plus
// room to return a useful amount of stream per Read.
const frameBuf = 64 << 10

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, frameBuf), h: sha256.New()}
}

func (f *frameReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if !f.hdr {
		if f.err = f.readHeader(); f.err != nil {
			return 0, f.err
		}
		f.hdr = true
	}
	if len(p) == 0 {
		return 0, nil
	}
	b, err := f.br.Peek(trailerLen + min(len(p), frameBuf-trailerLen))
	if err != nil && err != io.EOF {
		f.err = fmt.Errorf("read backup: %w", err)
		return 0, f.err
	}
	if k := len(b) - trailerLen; k > 0 {
		n := copy(p, b[:k])
		f.h.Write(p[:n])
		f.n += int64(n)
		_, _ = f.br.Discard(n)
		return n, nil
	}
	// At the end: all that is left is what should be the trailer.
	f.err = f.checkTrailer(b)
	return 0, f.err
}

// readHeader consumes the header line, or says why there is none.
func (f *frameReader) readHeader() error {
	b, err := f.br.Peek(len(frameHeader))
	if err != nil && err != io.EOF {
		return fmt.Errorf("read backup: %w", err)
	}
	switch {
	case bytes.Equal(b, []byte(frameHeader)), bytes.Equal(b, []byte(frameHeaderV1)):
		_, _ = f.br.Discard(len(b))
		return nil
	case len(b) == 0:
		return fmt.Errorf("%w: the file is empty", ErrDamaged)
	case len(b) < len(frameHeader) && bytes.HasPrefix([]byte(frameHeader), b):
		return fmt.Errorf("%w: it ends inside its header", ErrDamaged)
	case bytes.HasPrefix(b, []byte(frameMagic)):
		return f.versionError()
	}
	return fmt.Errorf("%w: it does not start with %q", ErrNotBackup, frameMagic+frameVersion)
}

// versionError reads the header line of another format version.
func (f *frameReader) versionError() error {
	line, err := f.br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("%w: its header line does not end", ErrDamaged)
	}
	v := bytes.TrimSpace(line[len(frameMagic):])
	return fmt.Errorf("backup format version %s: this porch reads version %s; restore it with the porch that wrote it, or a newer one",
		strconv.Quote(string(v[:min(len(v), 16)])), frameVersion)
}

// checkTrailer compares the held-back end of the file with the trailer
// of the stream read.
func (f *frameReader) checkTrailer(b []byte) error {
	want := trailer(f.n, f.h.Sum(nil))
	switch {
	case bytes.Equal(b, want):
		return io.EOF
	case len(b) < trailerLen || !bytes.HasPrefix(b, []byte(trailerMagic)):
		return fmt.Errorf("%w: it ends without its trailer (cut short, or bytes after it)", ErrDamaged)
	}
	return fmt.Errorf("%w: its length or SHA-256 does not match its trailer (%d bytes read, trailer %q)",
		ErrDamaged, f.n, bytes.TrimSpace(b[len(trailerMagic):]))
}

// checkFrame reads a whole framed backup and reports whether it is one.
func checkFrame(r io.Reader) error {
	_, err := io.Copy(io.Discard, newFrameReader(r))
	return err
}
