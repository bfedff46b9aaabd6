package inboxtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// pruner is the retention pass each engine runs (from its retention loop,
// under Lead on a shared database).
type pruner interface {
	Prune(cutoff time.Time) (inbox.PruneReport, error)
}

// Retention removes the oldest events whose deliveries are all settled,
// delivered or dead, with everything that hangs off them (body, indexes,
// sightings, history, dead letters; their dedup keys left the window
// before, as the config requires a retention longer than it), and records the newest
// removed link as the checkpoint the kept chain verifies from. It stops
// at the first old event with a delivery pending, takes it once settled,
// and the chain goes on from its head.
func testRetention(t *testing.T, e Engine) {
	s := open(t, e)
	p, ok := s.(pruner)
	if !ok {
		t.Fatalf("%T has no retention pass (Prune)", s)
	}
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	var evs []inbox.Result
	for i := range 4 {
		ev := delivery(100+i, fmt.Sprint("ret-", i))
		ev.ReceivedAt = old.Add(time.Duration(i) * time.Second)
		evs = append(evs, mustAccept(t, s, ev))
	}
	resend := delivery(100, "ret-0")
	resend.ReceivedAt = old.Add(time.Minute)
	if r := mustAccept(t, s, resend); !r.Duplicate || r.ID != evs[0].ID {
		t.Fatalf("resend of an old event: %+v", r)
	}
	young := mustAccept(t, s, delivery(200, "ret-young"))

	// Events 0 and 2 delivered, 1 dead; 3 and the young one pending.
	now := later()
	for _, d := range mustClaim(t, s, now, map[string]int{"app": 10, "audit": 10}, time.Minute) {
		var err error
		switch d.EventID {
		case evs[0].ID, evs[2].ID:
			err = s.Ack(d, inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 200})
		case evs[1].ID:
			a := sent(now)
			err = s.DeadLetter(d, &a, "gone")
		default:
			s.Release(d)
		}
		if err != nil {
			t.Fatalf("settle %s to %s: %v", d.EventID, d.Destination, err)
		}
	}
	if dls, err := s.DeadLetters(inbox.DeadLetterFilter{}); err != nil || len(dls) != 2 {
		t.Fatalf("dead letters before retention: %+v, %v", dls, err)
	}

	cutoff := time.Now().Add(-time.Hour)
	rep, err := p.Prune(cutoff)
	if err != nil || rep.Removed != 3 || rep.HeldBy != evs[3].ID {
		t.Fatalf("first pass: %+v, %v; want 3 removed, held by %s", rep, err, evs[3].ID)
	}
	for _, r := range evs[:3] {
		if _, err := s.Event(r.ID); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("event %s after retention: %v", r.ID, err)
		}
		if _, err := s.Body(r.ID); !errors.Is(err, inbox.ErrNotFound) {
			t.Errorf("body of %s after retention: %v", r.ID, err)
		}
		if at, err := s.Attempts(r.ID); err != nil || len(at) != 0 {
			t.Errorf("history of %s after retention: %+v, %v", r.ID, at, err)
		}
	}
	if dls, err := s.DeadLetters(inbox.DeadLetterFilter{}); err != nil || len(dls) != 0 {
		t.Errorf("dead letters of removed events: %+v, %v", dls, err)
	}
	if page, err := s.List(inbox.Query{InterviewID: "iv-101"}); err != nil || len(page.Events) != 0 {
		t.Errorf("search finds a removed event: %+v, %v", page.Events, err)
	}
	v, err := s.Verify(ctx)
	if err != nil || !v.OK || v.StartSeq != rep.Checkpoint || v.Checked != 2 {
		t.Fatalf("verify after the first pass: %+v, %v; want 2 events checked from seq %d", v, err, rep.Checkpoint)
	}

	// Once event 3 is delivered it goes too; the young one stays.
	for _, d := range mustClaim(t, s, now.Add(time.Hour), map[string]int{"app": 10, "audit": 10}, time.Minute) {
		if d.EventID != evs[3].ID {
			s.Release(d)
			continue
		}
		if err := s.Ack(d, inbox.Attempt{Kind: inbox.AttemptSend, At: now, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err = p.Prune(cutoff); err != nil || rep.Removed != 1 || rep.HeldBy != "" {
		t.Fatalf("second pass: %+v, %v; want 1 removed, none held", rep, err)
	}
	if _, err := s.Event(young.ID); err != nil {
		t.Errorf("young event after retention: %v", err)
	}
	next := mustAccept(t, s, delivery(300, "ret-next"))
	if v, err := s.Verify(ctx); err != nil || !v.OK || v.StartSeq != rep.Checkpoint || v.Checked != 2 {
		t.Errorf("verify after the second pass and %s: %+v, %v", next.ID, v, err)
	}
	recs := mustExport(t, e, s)
	if len(recs) != 2 || recs[0].ID != young.ID || recs[1].ID != next.ID {
		t.Errorf("archive after retention: %d events, want the young one and the next", len(recs))
	}
}
