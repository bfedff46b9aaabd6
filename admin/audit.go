package admin

import (
	"net/http"

	"github.com/porchgw/porch/httpserve"
	"github.com/porchgw/porch/inbox"
)

// base is what every resource's handlers share: the access trail they
// write before answering, and the pages they render.
type base struct {
	auditor Auditor
	*view
}

// audit records on the access trail that the caller did action; it must
// succeed before the archive answers.
func (b base) audit(r *http.Request, action string, ids []string, query string, count int) error {
	return b.auditor.LogAccess(inbox.Access{
		Token: tokenOf(r), Role: roleOf(r).String(), Action: action, EventIDs: ids,
		Query: query, Count: count, RequestID: httpserve.RequestID(r), Remote: httpserve.RemoteIP(r),
	})
}

// auditFirst trails action (with the request's path and query) before h
// runs, for handlers that stream or act and cannot audit afterwards: a
// backup, a reload, a profile.
func (b base) auditFirst(action string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := b.audit(r, action, nil, r.URL.RequestURI(), 0); err != nil {
			writeError(w, r, err)
			return
		}
		h(w, r)
	}
}
