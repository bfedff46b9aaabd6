package admin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/admin"
	"github.com/porchgw/porch/inbox"
)

// acceptHTML archives a delivery whose provider sent an HTML body, as a
// hostile or compromised provider could.
func (env *adminEnv) acceptHTML(t *testing.T) string {
	t.Helper()
	body := `<html><script>fetch("/api/v1/export")</script></html>`
	sum := sha256.Sum256([]byte(body))
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: "int-html",
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: env.t0.Add(time.Minute),
		ContentType: "text/html; charset=utf-8", Body: []byte(body), BodySHA256: hex.EncodeToString(sum[:]),
		BodySize: len(body), DedupKeys: []string{"n:html"}, Verification: inbox.Verification{Mode: "raw"},
	}
	r, err := env.db.Accept(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// Every route that hands out a stored body sends it as a download the
// browser neither renders nor sniffs, whatever Content-Type the provider
// sent (the raw API keeps that type, as the admin API promises).
func TestRawBodiesAreNeverRenderedInline(t *testing.T) {
	env := startAdmin(t)
	id := env.acceptHTML(t)
	for _, c := range []struct{ path, ctype string }{
		{"/api/v1/events/" + id + "/raw", "text/html; charset=utf-8"},
		{"/api/v1/events/" + id + "/raw?download=1", "text/html; charset=utf-8"},
		{"/api/v1/export?since=2026-11-02", "application/x-ndjson"},
	} {
		for _, auth := range []reqOpt{bearerAuth(auditorToken), basicAuth(auditorToken)} {
			resp, body := env.get(t, c.path, auth)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
			}
			h := resp.Header
			if got := h.Get("Content-Type"); got != c.ctype {
				t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
			}
			if got := h.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment; filename=") {
				t.Errorf("%s: Content-Disposition %q", c.path, got)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q", c.path, got)
			}
			if got := h.Get("Content-Security-Policy"); !strings.Contains(got, "sandbox") {
				t.Errorf("%s: Content-Security-Policy %q", c.path, got)
			}
		}
	}
	_, raw := env.get(t, "/api/v1/events/"+id+"/raw", bearerAuth(auditorToken))
	if want, _ := env.db.Body(id); raw != string(want) {
		t.Errorf("raw body changed: %q", raw)
	}
	// The pages show the body as escaped text inside our own page.
	for _, p := range []string{"/ui/events/" + id, "/ui/events/" + id + "/raw"} {
		resp, page := env.get(t, p, basicAuth(auditorToken))
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || strings.Contains(page, "<script>") ||
			!strings.Contains(page, "&lt;script&gt;") {
			t.Errorf("%s: body not shown as escaped text", p)
		}
	}
	// Dead letters and the event detail are JSON, never the body's type.
	env.deadLetter(t, env.ids[0])
	for _, p := range []string{"/api/v1/deadletters", "/api/v1/events/" + id} {
		resp, _ := env.get(t, p, bearerAuth(auditorToken))
		if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %q %q", p, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
		}
	}
}

func TestRawType(t *testing.T) {
	for _, c := range []struct{ in, mediaType, ext string }{
		{"application/json", "application/json", ".json"},
		{"Application/JSON; charset=UTF-8", "application/json; charset=UTF-8", ".json"},
		{"application/vnd.koji+json", "application/vnd.koji+json", ".json"},
		{"text/html; charset=utf-8", "text/html; charset=utf-8", ".bin"},
		{"", "", ".bin"},
		{"not a type", "", ".bin"},
		{"text/html; charset", "", ".bin"},
		{`text/plain; name="a\"b"`, `text/plain; name="a\"b"`, ".bin"},
	} {
		mt, ext := admin.RawType(c.in)
		if mt != c.mediaType || ext != c.ext {
			t.Errorf("RawType(%q) = %q, %q; want %q, %q", c.in, mt, ext, c.mediaType, c.ext)
		}
	}
}

// The stored Content-Type is the provider's: whatever it holds, what
// rawType returns for a response header parses again and carries no line
// breaks.
func FuzzRawType(f *testing.F) {
	for _, s := range []string{"application/json", "text/html; charset=utf-8", "a/b; c=\"d\\\"\"", "x/y;\r\nSet-Cookie: a=b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		mt, ext := admin.RawType(ct)
		if ext != ".json" && ext != ".bin" {
			t.Fatalf("ext %q", ext)
		}
		if mt == "" {
			return
		}
		if strings.ContainsAny(mt, "\r\n\x00") {
			t.Fatalf("media type %q holds a control character", mt)
		}
		if _, _, err := mime.ParseMediaType(mt); err != nil {
			t.Fatalf("%q from %q does not parse: %v", mt, ct, err)
		}
	})
}
