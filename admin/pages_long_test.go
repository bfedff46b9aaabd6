package admin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// An event whose interview id is 70 KB is quarantined by the store: its
// page says why, and the search results show the id cut short rather than
// a 70 KB cell that pushes the other columns off the page.
func TestPagesShowLongFieldsShortAndTheQuarantineReason(t *testing.T) {
	env := startAdmin(t)
	long := "lng-" + strings.Repeat("q", 70000)
	body := `{"event":"interview.completed","data":{"interview_id":"` + long + `"}}`
	sum := sha256.Sum256([]byte(body))
	ev := &inbox.Event{
		Source: "koji", Provider: "koji", Type: "interview.completed", InterviewID: long,
		Status: inbox.StatusAccepted, Origin: inbox.OriginProvider, ReceivedAt: env.t0.Add(time.Minute),
		ContentType: "application/json", Body: []byte(body), BodySHA256: hex.EncodeToString(sum[:]),
		BodySize: len(body), DedupKeys: []string{"interview.completed:" + long}, Verification: inbox.Verification{Mode: "raw"},
	}
	r, err := env.db.Accept(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	_, page := env.get(t, "/ui/events/"+r.ID, basicAuth(auditorToken))
	if !strings.Contains(page, "longer than 512 bytes") || !strings.Contains(page, "never forwarded") {
		t.Errorf("event page does not say why the event is quarantined")
	}
	_, list := env.get(t, "/?interview_prefix=LNG-", basicAuth(auditorToken))
	if !strings.Contains(list, r.ID) {
		t.Fatalf("search by prefix does not list the event")
	}
	if len(list) > 20000 {
		t.Errorf("search page is %d bytes for one long-id result: the id is not cut short", len(list))
	}
}
