package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// The archive browser: server-rendered pages from html/template, embedded
// with the binary, no JavaScript at all. Every page view that shows
// archived content is on the access trail, like the API.

//go:embed ui
var uiFS embed.FS

// pageNames are the templates under ui/, each rendered inside layout.html.
var pageNames = []string{"search", "event", "raw", "deadletters", "rejections", "access", "verify", "error"}

// view renders the pages, each with the caller's CSRF token.
type view struct {
	pages *pages
	csrf  *csrfKeys
}

type pages struct {
	t      map[string]*template.Template
	static http.Handler
}

func loadPages() (*pages, error) {
	const maxListField = 80
	funcs := template.FuncMap{
		// when is a time in UTC; the column or row heading says "UTC",
		// once, rather than every cell.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05")
		},
		"idtime":     func(id string) string { return inbox.IDTime(id).Format("2006-01-02 15:04:05") },
		"signedTime": signedTime,
		"unitName":   unitName,
		"took":       took,
		// short cuts a value taken from a payload for a list cell: an
		// interview id or event type may be kilobytes long.
		"short": func(s string) string { return clip(s, maxListField) },
		// after is the seq following n: a chain check from checkpoint n
		// verifies events n+1 onwards.
		"after": func(n uint64) uint64 { return n + 1 },
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, n := range pageNames {
		t, err := template.New(n).Funcs(funcs).ParseFS(uiFS, "ui/layout.html", "ui/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("admin pages: %w", err)
		}
		p.t[n] = t
	}
	static, err := fs.Sub(uiFS, "ui/static")
	if err != nil {
		return nil, fmt.Errorf("admin pages: %w", err)
	}
	p.static = http.StripPrefix("/ui/static/", http.FileServerFS(static))
	return p, nil
}

// pageData is what every page template gets; Body is the page's own.
type pageData struct {
	Title string
	Role  string
	Admin bool
	Token string // fingerprint
	CSRF  string
	Body  any
}

// render writes page name, or an error page when it fails to render.
func (v *view) render(w http.ResponseWriter, r *http.Request, status int, name, title string, body any) {
	d := pageData{Title: title, Role: roleOf(r).String(), Admin: roleOf(r) >= RoleAdmin,
		Token: tokenOf(r), CSRF: v.csrf.token(tokenOf(r)), Body: body}
	var buf bytes.Buffer
	if err := v.pages.t[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		writeError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type listPage[T any] struct {
	Items []T
	Next  string // "before" of the next page
}

type errorPage struct {
	Status  int
	Message string
}

// pageError shows an error the way writeError would, but as a page.
func (v *view) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, message := answers.Answer(storeDown(r, err))
	if status >= 500 {
		httpserve.LoggerFrom(r).WithError(err).Error("page failed")
	}
	v.render(w, r, status, "error", http.StatusText(status), errorPage{Status: status, Message: message})
}

// signedTime is the signed timestamp of v as an RFC 3339 time in UTC,
// or "" when it does not read as its unit says.
func signedTime(v inbox.Verification) string {
	s := v.Timestamp
	switch v.TimestampUnit {
	case "s", "ms":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil {
				return ""
			}
			n = int64(f)
		}
		if v.TimestampUnit == "ms" {
			return time.UnixMilli(n).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
		return time.Unix(n, 0).UTC().Format(time.RFC3339)
	case "rfc3339":
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// unitName says how a signed timestamp was sent.
func unitName(unit string) string {
	switch unit {
	case "s":
		return "Unix seconds"
	case "ms":
		return "Unix milliseconds"
	case "rfc3339":
		return "RFC 3339"
	}
	return unit
}

// took is how long a delivery attempt took, to the microsecond when the
// attempt recorded it; older records hold whole milliseconds, where 0
// means under one. Replays take no time and show nothing.
func took(a inbox.Attempt) string {
	if a.Kind != inbox.AttemptSend {
		return ""
	}
	d := time.Duration(a.LatencyUS) * time.Microsecond
	switch {
	case a.LatencyUS == 0 && a.LatencyMS == 0:
		return "<1 ms"
	case a.LatencyUS == 0:
		d = time.Duration(a.LatencyMS) * time.Millisecond
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", a.LatencyUS)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(a.LatencyUS)/1000)
	}
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return d.Round(time.Millisecond).String()
}

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
