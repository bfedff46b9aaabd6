package badger

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// frame is stream framed as Backup frames it.
func frame(t testing.TB, stream []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw := newFrameWriter(&buf)
	if _, err := fw.Write(stream); err != nil {
		t.Fatal(err)
	}
	if err := fw.finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unframe reads r through a frameReader: the stream and the error that
// ended it (nil for a whole frame).
func unframe(r io.Reader) ([]byte, error) {
	return io.ReadAll(newFrameReader(r))
}

func TestFrameReader(t *testing.T) {
	small := []byte("\x05\x00\x00\x00\x00\x00\x00\x00hello")
	big := bytes.Repeat([]byte("0123456789abcdef\n"), 3*frameBuf/16) // several look-aheads long
	whole := frame(t, small)
	flipped := bytes.Clone(whole)
	flipped[len(frameHeader)+3] ^= 1
	tests := []struct {
		name string
		in   []byte
		want []byte // the stream, when the frame is whole
		err  error  // else the error it matches
		text string // and a part of its message
	}{
		{"small", whole, small, nil, ""},
		{"big", frame(t, big), big, nil, ""},
		{"empty stream", frame(t, nil), nil, nil, ""},
		{"empty file", nil, nil, ErrDamaged, "empty"},
		{"cut in header", whole[:7], nil, ErrDamaged, "inside its header"},
		{"header only", whole[:len(frameHeader)], nil, ErrDamaged, "without its trailer"},
		{"cut in stream", whole[:len(frameHeader)+4], nil, ErrDamaged, "without its trailer"},
		{"cut in trailer", whole[:len(whole)-1], nil, ErrDamaged, "without its trailer"},
		{"bytes after trailer", append(bytes.Clone(whole), '\n'), nil, ErrDamaged, "without its trailer"},
		{"byte changed", flipped, nil, ErrDamaged, "does not match"},
		{"stream cut, trailer kept", append(whole[:len(frameHeader)+2:len(frameHeader)+2], whole[len(whole)-trailerLen:]...), nil, ErrDamaged, "does not match"},
		{"yaml", []byte("sources:\n  - name: koji\n"), nil, ErrNotBackup, `does not start with "porch-badger-backup 2"`},
		{"bare badger stream", small, nil, ErrNotBackup, ""},
		{"version 1", append([]byte(frameHeaderV1), whole[len(frameHeader):]...), small, nil, ""},
		{"newer version", []byte(frameMagic + "3\nstuff"), nil, nil, `version "3": this porch reads version 2`},
		{"version line without end", []byte(frameMagic + "3"), nil, ErrDamaged, "does not end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unframe(bytes.NewReader(tt.in))
			if tt.err == nil && tt.text == "" {
				if err != nil || !bytes.Equal(got, tt.want) {
					t.Fatalf("got %d bytes, %v; want %d bytes, nil", len(got), err, len(tt.want))
				}
				return
			}
			if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("got %v; want %v containing %q", err, tt.err, tt.text)
			}
		})
	}
}

// A reader that returns one byte at a time, or fails, changes nothing
// but the error.
func TestFrameReaderSlowAndFailingSource(t *testing.T) {
	stream := bytes.Repeat([]byte("x"), 3*trailerLen)
	got, err := unframe(iotest.OneByteReader(bytes.NewReader(frame(t, stream))))
	if err != nil || !bytes.Equal(got, stream) {
		t.Fatalf("one byte at a time: %d bytes, %v", len(got), err)
	}
	boom := errors.New("disk gone")
	r := io.MultiReader(bytes.NewReader(frame(t, stream)[:len(frameHeader)+10]), iotest.ErrReader(boom))
	if _, err := unframe(r); !errors.Is(err, boom) {
		t.Fatalf("failing source: %v, want %v", err, boom)
	}
}

// FuzzFrameReader reads arbitrary bytes as a backup. It must not panic;
// whatever it accepts must be exactly the framing of what it returned,
// and reading one byte at a time must agree.
func FuzzFrameReader(f *testing.F) {
	f.Add(frame(f, []byte("\x05\x00\x00\x00\x00\x00\x00\x00hello")))
	f.Add(frame(f, nil))
	f.Add([]byte(frameHeader))
	f.Add([]byte(frameMagic + "9\n"))
	f.Add([]byte("sources:\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := unframe(bytes.NewReader(in))
		slow, slowErr := unframe(iotest.OneByteReader(bytes.NewReader(in)))
		if (err == nil) != (slowErr == nil) || !bytes.Equal(got, slow) {
			t.Fatalf("one byte at a time differs: %v / %v", err, slowErr)
		}
		if err != nil {
			return
		}
		if re := frame(t, got); !bytes.Equal(re, in) {
			t.Fatalf("accepted %q, which is not the frame of what it returned (%q)", in, re)
		}
	})
}
