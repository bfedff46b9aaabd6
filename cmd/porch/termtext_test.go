package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/porchgw/porch/inbox"
)

func TestTermText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"interview.completed", "interview.completed"},
		{"", ""},
		{"héllo wörld: ✓", "héllo wörld: ✓"},
		{`max attempts (1) reached: Post "http://h/": EOF`, `max attempts (1) reached: Post "http://h/": EOF`},
		{"a\x1b[31mred", `"a\x1b[31mred"`},
		{"row\r\nFORGED", `"row\r\nFORGED"`},
		{"tab\tcol", `"tab\tcol"`},
		{"del\x7f", `"del\x7f"`},
		{"csi\u009b2J", `"csi\u009b2J"`},
		{"\u202eevil", `"\u202eevil"`},
		{"iso\u2066x\u2069", `"iso\u2066x\u2069"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{`"quoted"`, `"\"quoted\""`},
		{`back\slash`, `back\slash`},
	} {
		if got := termText(c.in); got != c.want {
			t.Errorf("termText(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestTermJSON(t *testing.T) {
	for _, in := range []string{
		`{"type":"a\u001b[31m\r\n","n":1}`,
		"{\n  \"type\": \"del\x7f csi\u009b bidi\u202e iso\u2067 tag\U000E0001 ok é ✓\"\n}",
		`["plain", 1, true, null]`,
	} {
		out := termJSON([]byte(in))
		if bad := unsafeRune(string(out), "\n"); bad != "" {
			t.Errorf("termJSON(%q) = %s keeps %q", in, out, bad)
		}
		var want, got any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("termJSON(%q) = %s: %v", in, out, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("termJSON(%q) decodes differently (-want +got):\n%s", in, diff)
		}
	}
}

// unsafeRune is the first rune of s a terminal would act on (any but the
// printable ones and those in allowed), or "".
func unsafeRune(s, allowed string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if !strconv.IsPrint(r) && !strings.ContainsRune(allowed, r) {
			return string(r)
		}
	}
	return ""
}

// shownEvent is the part of an event or dead letter the CLI's JSON shows
// that TestCLIShowsControlsEscaped checks.
type shownEvent struct {
	Type        string `json:"type"`
	InterviewID string `json:"interview_id"`
}

// TestCLIShowsControlsEscaped: an event type and interview id full of
// terminal controls (signed provider data) are shown escaped by archive
// ls, archive show and deadletters ls, one row each, and exactly by their
// --json output.
func TestCLIShowsControlsEscaped(t *testing.T) {
	const typ = "interview.completed\x1b[2K\r\x1b[1A01FORGED  koji  interview.completed\n\u202edetacilpmoc\x7f\u009b31m"
	const interview = "\u202eiv-1\t\u2066x"
	_, sinkURL := newRecordingSink(t, http.StatusGone) // 410: dead-lettered at once
	m, _ := startMain(t, testConfig(t.TempDir(), sinkURL))
	body := `{"event":"x"}`
	sum := sha256.Sum256([]byte(body))
	r, err := m.DB.Accept(context.Background(), &inbox.Event{
		Source: "koji", Provider: "koji", Type: typ, InterviewID: interview,
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: time.Now(),
		ContentType: "application/json", Body: []byte(body), BodySHA256: hex.EncodeToString(sum[:]),
		BodySize: len(body), DedupKeys: []string{"k"}, Verification: inbox.Verification{Mode: "raw"},
		Destinations: []string{"app"},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "a dead letter", func() bool {
		dl, err := m.DB.DeadLetters(inbox.DeadLetterFilter{})
		return err == nil && len(dl) == 1
	})
	t.Setenv("PORCH_AUDITOR_TOKEN", testAuditToken)
	t.Setenv("PORCH_ADMIN_TOKEN", "")
	au := []string{"--admin-url", "http://" + m.Admin.Addr()}

	tables := []struct {
		name string
		run  func(context.Context, []string, io.Writer, io.Writer) int
		args []string
	}{
		{"archive ls", runArchive, []string{"ls"}},
		{"deadletters ls", runDeadLetters, []string{"ls"}},
	}
	for _, c := range tables {
		code, out, errs := cli(c.run, append(c.args, au...)...)
		if code != 0 {
			t.Fatalf("%s: %d %s", c.name, code, errs)
		}
		if bad := unsafeRune(out, "\n"); bad != "" {
			t.Errorf("%s shows %q raw:\n%s", c.name, bad, out)
		}
		if n := strings.Count(out, "\n"); n != 2 {
			t.Errorf("%s: %d lines, want a header and one row:\n%s", c.name, n, out)
		}
		for _, s := range []string{strconv.Quote(typ), strconv.Quote(interview)} {
			if !strings.Contains(out, s) {
				t.Errorf("%s does not show %s:\n%s", c.name, s, out)
			}
		}
	}

	code, out, errs := cli(runArchive, append([]string{"show", r.ID}, au...)...)
	var shown shownEvent
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil {
		t.Fatalf("show: %d %v %s%s", code, err, out, errs)
	}
	if bad := unsafeRune(out, "\n"); bad != "" {
		t.Errorf("show keeps %q raw:\n%s", bad, out)
	}
	if shown.Type != typ || shown.InterviewID != interview {
		t.Errorf("show decodes to %q %q, want the stored values", shown.Type, shown.InterviewID)
	}

	for _, c := range tables {
		code, out, errs := cli(c.run, append(c.args, append([]string{"--json"}, au...)...)...)
		if code != 0 {
			t.Fatalf("%s --json: %d %s%s", c.name, code, out, errs)
		}
		var page struct {
			Events      []shownEvent `json:"events"`
			DeadLetters []shownEvent `json:"deadletters"`
		}
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range append(page.Events, page.DeadLetters...) {
			if e.Type != typ || e.InterviewID != interview {
				t.Errorf("%s --json = %q %q, want the stored values", c.name, e.Type, e.InterviewID)
			}
		}
	}
}

// TestVerifyAndSinkShowControlsEscaped: a tampered export's event id in
// archive verify's break, and the headers and body porch sink prints, are
// shown escaped too.
func TestVerifyAndSinkShowControlsEscaped(t *testing.T) {
	var out, errb bytes.Buffer
	printVerify(inbox.VerifyReport{Broken: &inbox.Break{ID: "01J\x1b[2J", Seq: 2, Line: 3, Problem: "hash differs"}}, &out, &errb)
	if bad := unsafeRune(errb.String(), "\n"); bad != "" || !strings.Contains(errb.String(), `\x1b[2J`) {
		t.Errorf("verify shows %q raw:\n%s", bad, errb.String())
	}

	out.Reset()
	s, err := newSink("whsec_ZGV2LWZvcndhcmQtc2VjcmV0LWtleQ==", http.StatusNoContent, true, &out)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{\"type\":\"a\u009b2J\u202eb\x7f\"}"))
	req.Header.Set("X-Porch-Event", "interview.\u202edone")
	req.Header.Set("webhook-id", "01J\u009b2J")
	s.ServeHTTP(httptest.NewRecorder(), req)
	if bad := unsafeRune(out.String(), "\n"); bad != "" || !strings.Contains(out.String(), `\u202e`) {
		t.Errorf("sink shows %q raw:\n%s", bad, out.String())
	}
}
