package badger_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

// asJSON is s as a JSON round trip returns it: invalid UTF-8 replaced.
func asJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

// FuzzAcceptHostileFields accepts an event with an arbitrary source,
// event type, interview id and dedup key (huge, empty, escaped or not
// UTF-8), together with an ordinary one. Both must commit; the odd one
// must be archived byte for byte and found by every search it matches;
// a duplicate must point at an event holding the very same dedup key
// (as JSON stores it; the dedup index itself compares the raw bytes).
func FuzzAcceptHostileFields(f *testing.F) {
	long := strings.Repeat("x", 70_000)
	f.Add("koji", "interview.completed", "a/b", "k")
	f.Add("koji", "interview.completed", "50%", "")
	f.Add("gather", "x%2Fy", "x%2Fy", "x%2Fy")
	f.Add("koji", "t", long, long)
	f.Add("koji", long, "i", "%#"+strings.Repeat("0", 64))
	f.Add("", "", "", "\xff\x00/%")
	f.Add("s/o%urce", "\xff", "%25", long+"y")
	db := mustOpen(f, f.TempDir(), badger.Options{})
	f.Cleanup(func() { db.Close() })
	n := 0
	f.Fuzz(func(t *testing.T, source, typ, interview, key string) {
		n++
		odd := newEvent(interview, "odd "+source+typ+interview+key)
		odd.Source, odd.Type, odd.DedupKeys = source, typ, []string{key}
		good := newEvent(fmt.Sprint("good-", n), fmt.Sprint(`{"n":`, n, `}`))
		good.DedupKeys = []string{fmt.Sprint("good:", time.Now().UnixNano(), ":", n)}
		res, errs := acceptAll(t, db, []*inbox.Event{odd, good})
		if errs[1] != nil || res[1].Duplicate {
			t.Fatalf("ordinary delivery: %+v, %v", res[1], errs[1])
		}
		if errs[0] != nil {
			t.Fatalf("odd delivery: %v", errs[0])
		}
		got, err := db.Event(res[0].ID)
		if err != nil {
			t.Fatalf("odd delivery not archived: %v", err)
		}
		if res[0].Duplicate {
			if !slices.Contains(got.DedupKeys, asJSON(odd.DedupKeys[0])) {
				t.Fatalf("duplicate of %s, which holds %q, not %q", got.ID, got.DedupKeys, odd.DedupKeys[0])
			}
			return
		}
		if body, err := db.Body(res[0].ID); err != nil || string(body) != string(odd.Body) {
			t.Fatalf("odd body = %q, %v", body, err)
		}
		at := inbox.IDTime(res[0].ID)
		for _, q := range []inbox.Query{
			{Source: got.Source, InterviewID: got.InterviewID},
			{InterviewID: got.InterviewID},
			{Source: got.Source, Type: got.Type},
			{Type: got.Type},
			{Source: got.Source},
			{Status: got.Status},
		} {
			q.Since, q.Until, q.Limit = at, at.Add(time.Millisecond), inbox.MaxListLimit
			if ids := searchIDs(t, db, q); !slices.Contains(ids, res[0].ID) {
				t.Errorf("search %q/%q/%q/%q does not find %s", q.Source, q.Type, q.InterviewID, q.Status, res[0].ID)
			}
		}
	})
}
