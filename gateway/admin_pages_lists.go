package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/porchgw/porch/inbox"
)

type deadLettersPage struct {
	Rows      []inbox.DeadLetter
	CanReplay bool
}

// pageDeadLetters is GET /ui/deadletters: up to 500 dead letters, oldest
// event first, with replay buttons for admins.
func (a *Admin) pageDeadLetters(w http.ResponseWriter, r *http.Request) {
	rows, err := a.archive.DeadLetters(inbox.DeadLetterFilter{Limit: 500})
	if err == nil {
		err = a.audit(r, "deadletters", nil, "limit=500", len(rows))
	}
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "deadletters", "Dead letters", deadLettersPage{Rows: rows, CanReplay: roleOf(r) >= RoleAdmin})
}

// pageReplay is POST /ui/events/{id}/replay (admins, CSRF-checked by
// csrfGuard), with an optional form field destination: the same store
// call as the replay API, then back to the event page.
func (a *Admin) pageReplay(w http.ResponseWriter, r *http.Request) {
	id := eventIDVar(r)
	dest := r.PostFormValue("destination")
	err := a.audit(r, "replay", []string{id}, dest, 0)
	var queued []string
	if err == nil {
		queued, err = a.archive.Replay(id, dest, inbox.ReplayRequest{By: tokenOf(r), Reason: "replayed from the archive pages"})
	}
	if err != nil {
		a.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/ui/events/"+id+"?replayed="+strconv.Itoa(len(queued)), http.StatusSeeOther)
}

type listPage[T any] struct {
	Items []T
	Next  string // "before" of the next page
}

// pageRejections is GET /ui/rejections?before=.
func (a *Admin) pageRejections(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	list, err := a.archive.Rejections(before, 100)
	if err == nil {
		err = a.audit(r, "rejections", nil, r.URL.RawQuery, len(list))
	}
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
	if err == nil {
		err = a.audit(r, "trail", nil, r.URL.RawQuery, len(list))
	}
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
