package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/porchgw/porch/inbox"
)

// DeadLetterRow is one dead letter as the dead letters page shows it.
type DeadLetterRow struct {
	EventID     string
	Destination string
	Source      string
	Type        string
	Attempts    int
	Reason      string
	At          time.Time
}

// DeadLetterLister lists dead letters, newest first, for the page. cmd
// adapts forwarding's store methods to it.
type DeadLetterLister interface {
	DeadLetterRows(limit int) ([]DeadLetterRow, error)
}

type deadLettersPage struct {
	Rows      []DeadLetterRow
	Wired     bool
	CanReplay bool
}

// pageDeadLetters is GET /ui/deadletters.
func (a *Admin) pageDeadLetters(w http.ResponseWriter, r *http.Request) {
	p := deadLettersPage{Wired: a.cfg.DeadLetters != nil, CanReplay: a.cfg.Replay != nil && roleOf(r) >= RoleAdmin}
	if p.Wired {
		rows, err := a.cfg.DeadLetters.DeadLetterRows(200)
		if err != nil {
			a.pageError(w, r, err)
			return
		}
		p.Rows = rows
	}
	a.render(w, r, http.StatusOK, "deadletters", "Dead letters", p)
}

// pageReplay is POST /ui/events/{id}/replay (admins, CSRF-checked by
// csrfGuard): the same store call as the replay API, then back to the
// event page.
func (a *Admin) pageReplay(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if a.cfg.Replay == nil {
		a.pageError(w, r, ErrRouteNotFound)
		return
	}
	err := a.audit(r, "replay", []string{id}, "", 0)
	if err == nil {
		err = a.cfg.Replay(r.Context(), id)
	}
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/ui/events/"+id+"?replayed=1", http.StatusSeeOther)
}

type listPage[T any] struct {
	Items []T
	Next  string // "before" of the next page
}

// pageRejections is GET /ui/rejections?before=.
func (a *Admin) pageRejections(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	list, err := a.archive.Rejections(before, 100)
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	p := listPage[inbox.Rejection]{Items: list}
	if len(list) == 100 {
		p.Next = strconv.FormatUint(list[99].Seq, 10)
	}
	a.render(w, r, http.StatusOK, "rejections", "Rejected requests", p)
}

// pageAccess is GET /ui/access?before= (admins): the access trail.
func (a *Admin) pageAccess(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	list, err := a.archive.AccessTrail(before, 100)
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	p := listPage[inbox.Access]{Items: list}
	if len(list) == 100 {
		p.Next = strconv.FormatUint(list[99].Seq, 10)
	}
	a.render(w, r, http.StatusOK, "access", "Access trail", p)
}

type verifyPage struct {
	Report inbox.VerifyReport
	Took   time.Duration
}

// pageVerify is GET /ui/verify: runs the chain check and shows it.
func (a *Admin) pageVerify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rep, err := a.archive.Verify(r.Context())
	if err == nil {
		err = a.audit(r, "verify", nil, "", rep.Checked)
	}
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "verify", "Verify chain", verifyPage{Report: rep, Took: time.Since(start).Round(time.Millisecond)})
}
