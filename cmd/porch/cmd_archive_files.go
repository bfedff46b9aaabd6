package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/porchgw/porch/inbox"
)

// openOut is stdout, or the file named by path.
func openOut(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

func archiveRaw(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("archive raw", "ID [flags]", stdout, stderr)
	co := clientFlags(fs)
	out := fs.String("out", "", "write to this file instead of stdout")
	id, code, ok := parseWithID(fs, args)
	if !ok {
		return code
	}
	c, ok := newAdminClient("archive raw", co, stderr)
	if !ok {
		return 2
	}
	return download(ctx, c, "archive raw", "/api/v1/events/"+url.PathEscape(id)+"/raw?download=1", *out, stdout, stderr)
}

func archiveExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("archive export", "[flags]", stdout, stderr)
	co := clientFlags(fs)
	since := fs.String("since", "", "events received at or after (RFC 3339 or 2006-01-02)")
	until := fs.String("until", "", "events received before")
	out := fs.String("out", "", "write to this file instead of stdout")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if code := checkRange("archive export", *since, *until, stderr); code != 0 {
		return code
	}
	c, ok := newAdminClient("archive export", co, stderr)
	if !ok {
		return 2
	}
	v := url.Values{}
	if *since != "" {
		v.Set("since", *since)
	}
	if *until != "" {
		v.Set("until", *until)
	}
	tail := &tailWriter{}
	if code := download(ctx, c, "archive export", "/api/v1/export?"+v.Encode(), *out, stdout, stderr, tail); code != 0 {
		return code
	}
	if !tail.endsExport() {
		return fail(stderr, "archive export", errors.New("the export stopped before its end line (the gateway's log says why); what arrived is kept, and archive verify --file reports it cut short"))
	}
	return 0
}

// tailWriter keeps the last bytes written to it, enough to hold an
// export's end line.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	const keep = 1024
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = append(t.b[:0], t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

// endsExport reports whether the last line written is an export's end line.
func (t *tailWriter) endsExport() bool {
	b := bytes.TrimRight(t.b, "\r\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return bytes.HasPrefix(b, []byte(`{"export_end":`)) && json.Valid(b)
}

// download streams a 200 answer of path to out (or stdout), and to each
// of also.
func download(ctx context.Context, c *adminClient, name, path, out string, stdout, stderr io.Writer, also ...io.Writer) int {
	resp, err := c.get(ctx, path)
	if err != nil {
		return fail(stderr, name, err)
	}
	defer resp.Body.Close()
	w, closeOut, err := openOut(out, stdout)
	if err != nil {
		return fail(stderr, name, fmt.Errorf("--out: %w", err))
	}
	n, err := io.Copy(io.MultiWriter(append([]io.Writer{w}, also...)...), resp.Body)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	if out != "" && out != "-" {
		fmt.Fprintf(stderr, "wrote %d bytes to %s\n", n, out)
	}
	return 0
}

func archiveVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("archive verify", "[--file EXPORT.ndjson | flags]", stdout, stderr)
	co := clientFlags(fs)
	file := fs.String("file", "", "verify this export file offline, without a gateway (- for stdin)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	var rep inbox.VerifyReport
	if *file != "" {
		in := io.Reader(os.Stdin)
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return badFlag(stderr, "archive verify", "file", "%v", err)
			}
			defer f.Close()
			in = f
		}
		var err error
		if rep, err = inbox.VerifyExport(in); err != nil {
			return fail(stderr, "archive verify", err)
		}
	} else {
		c, ok := newAdminClient("archive verify", co, stderr)
		if !ok {
			return 2
		}
		if err := c.getJSON(ctx, "/api/v1/archive/verify", &rep); err != nil {
			return fail(stderr, "archive verify", err)
		}
	}
	return printVerify(rep, stdout, stderr)
}

func printVerify(rep inbox.VerifyReport, stdout, stderr io.Writer) int {
	switch {
	case rep.OK && rep.Checked == 0:
		fmt.Fprintln(stdout, "ok: nothing to verify (no events)")
		return 0
	case rep.OK:
		fmt.Fprintf(stdout, "ok: %d events verified, seq %d to %d, last hash %s\n",
			rep.Checked, rep.StartSeq+1, rep.LastSeq, rep.LastHash)
		return 0
	}
	fmt.Fprintf(stderr, "BROKEN at %s\n", termText(rep.Broken.String()))
	fmt.Fprintf(stderr, "%d events verified before it (seq %d to %d)\n", rep.Checked, rep.StartSeq+1, rep.LastSeq)
	return 1
}
