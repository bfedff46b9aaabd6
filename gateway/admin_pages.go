package gateway

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/porchgw/porch/inbox"
)

// The archive browser: server-rendered pages from html/template, embedded
// with the binary, no JavaScript at all. Every page view that shows
// archived content is on the access trail, like the API.

//go:embed ui
var uiFS embed.FS

// pageNames are the templates under ui/, each rendered inside layout.html.
var pageNames = []string{"search", "event", "raw", "deadletters", "rejections", "access", "verify", "error"}

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
func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, name, title string, body any) {
	d := pageData{Title: title, Role: roleOf(r).String(), Admin: roleOf(r) >= RoleAdmin,
		Token: tokenOf(r), CSRF: a.csrf.token(tokenOf(r)), Body: body}
	var buf bytes.Buffer
	if err := a.pages.t[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		writeError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// searchPage is the data of the search page.
type searchPage struct {
	Q      url.Values
	Hidden []headerLine
	Page   inbox.Page
	Err    string
	Next   string // URL of the next page
}

// hiddenFilters are filters the form has no field for (an exact interview
// id, times to the second from a link or an edited URL): the form carries
// them on, so that a new search or an export keeps them.
var hiddenFilters = []string{"interview_id", "since", "until"}

// pageSearch is GET /: the search form and its results.
func (a *Admin) pageSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	sp := searchPage{Q: v}
	for _, k := range hiddenFilters {
		if s := v.Get(k); s != "" {
			sp.Hidden = append(sp.Hidden, headerLine{k, s})
		}
	}
	q, err := parseQuery(v)
	if err == nil {
		q.Limit = 50
		sp.Page, err = a.archive.List(q)
	}
	if err == nil {
		err = a.audit(r, "search", nil, describe(v), len(sp.Page.Events))
	}
	if err != nil {
		if statusOf(err) != http.StatusBadRequest {
			writeError(w, r, err)
			return
		}
		sp.Err = publicMessage(http.StatusBadRequest, err)
	}
	if sp.Page.NextCursor != "" {
		nv := url.Values{}
		for k, vs := range v {
			nv[k] = vs
		}
		nv.Set("cursor", sp.Page.NextCursor)
		sp.Next = "/?" + nv.Encode()
	}
	a.render(w, r, http.StatusOK, "search", "Search", sp)
}

// eventPage is the data of the event page.
type eventPage struct {
	D         *EventDetail
	Headers   []headerLine
	Body      string // pretty-printed when it is JSON
	BodyJSON  bool
	Extras    []extraSection
	CanReplay bool
	Replayed  string // destinations queued by the replay just made
}

type headerLine struct{ Name, Value string }

type extraSection struct{ Name, JSON string }

// pageEvent is GET /ui/events/{id}.
func (a *Admin) pageEvent(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	d, err := a.detail(id)
	var body []byte
	if err == nil {
		body, err = a.archive.Body(id)
	}
	if err == nil {
		err = a.audit(r, "view", []string{id}, "", 0)
	}
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	ep := eventPage{D: d, CanReplay: roleOf(r) >= RoleAdmin && d.Status != inbox.StatusQuarantined && len(d.Destinations) > 0,
		Replayed: r.URL.Query().Get("replayed")}
	ep.Body, ep.BodyJSON = prettyBody(body)
	for name, vs := range d.Headers {
		for _, v := range vs {
			ep.Headers = append(ep.Headers, headerLine{name, v})
		}
	}
	sort.Slice(ep.Headers, func(i, j int) bool { return ep.Headers[i].Name < ep.Headers[j].Name })
	for name, v := range d.Extras {
		b, _ := json.MarshalIndent(v, "", "  ")
		ep.Extras = append(ep.Extras, extraSection{name, string(b)})
	}
	sort.Slice(ep.Extras, func(i, j int) bool { return ep.Extras[i].Name < ep.Extras[j].Name })
	a.render(w, r, http.StatusOK, "event", "Event "+id, ep)
}

// prettyBody indents a JSON body for reading; anything else is shown as
// text when it is UTF-8, and described otherwise.
func prettyBody(b []byte) (string, bool) {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") == nil {
		return buf.String(), true
	}
	if utf8.Valid(b) {
		return string(b), false
	}
	return fmt.Sprintf("(%d bytes of binary data: use Download raw)", len(b)), false
}

// rawPage is the data of the raw view.
type rawPage struct {
	ID, ContentType, Text, SHA256 string
	Size                          int
}

// pageRaw is GET /ui/events/{id}/raw: the exact bytes as text.
func (a *Admin) pageRaw(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	ev, err := a.archive.Event(id)
	var body []byte
	if err == nil {
		body, err = a.archive.Body(id)
	}
	if err == nil {
		err = a.audit(r, "raw", []string{id}, "", 0)
	}
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	rp := rawPage{ID: id, ContentType: ev.ContentType, SHA256: ev.BodySHA256, Size: len(body), Text: string(body)}
	if !utf8.Valid(body) {
		rp.Text = fmt.Sprintf("(%d bytes of binary data: use Download raw)", len(body))
	}
	a.render(w, r, http.StatusOK, "raw", "Raw "+id, rp)
}

type errorPage struct {
	Status  int
	Message string
}

// pageError shows an error the way writeError would, but as a page.
func (a *Admin) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		loggerFrom(r).WithError(err).Error("page failed")
	}
	a.render(w, r, status, "error", http.StatusText(status), errorPage{Status: status, Message: publicMessage(status, err)})
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
