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
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
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
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"idtime": func(id string) string { return inbox.IDTime(id).Format("2006-01-02 15:04:05 UTC") },
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
	Q    url.Values
	Page inbox.Page
	Err  string
	Next string // URL of the next page
}

// pageSearch is GET /: the search form and its results.
func (a *Admin) pageSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	sp := searchPage{Q: v}
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
	id := mux.Vars(r)["id"]
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
	id := mux.Vars(r)["id"]
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
