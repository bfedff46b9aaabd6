package badger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/inbox/badger"
)

func TestPruneKeepsChainVerifiable(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	t0 := time.Now().Add(-time.Hour)
	var ids []string
	for i := range 10 {
		ev := newEvent(fmt.Sprint("i-", i), fmt.Sprintf(`{"n":%d}`, i), "app")
		ev.ReceivedAt = t0.Add(time.Duration(i) * time.Second)
		r, err := db.Accept(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, id := range ids[:3] {
		_ = db.SettleForTest(id, "app", inbox.DeliveryDelivered)
	}
	pending, _ := db.Pending()
	for _, d := range pending {
		if d.EventID == ids[4] {
			if err := db.DeadLetter(d, &inbox.Attempt{Kind: inbox.AttemptSend, At: time.Now(), Status: 410}, "gone"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Events 0..5 are old; 3 is still pending, so only 0..2 go.
	rep, err := db.Prune(t0.Add(6 * time.Second))
	if err != nil || rep.Removed != 3 || rep.HeldBy != ids[3] || rep.Checkpoint != 3 {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	if _, err := db.Event(ids[0]); err == nil {
		t.Error("event 0 still there")
	}
	if _, err := db.Body(ids[2]); err == nil {
		t.Error("body 2 still there")
	}
	if p, _ := db.List(inbox.Query{InterviewID: "i-1"}); len(p.Events) != 0 {
		t.Errorf("index still finds removed event: %+v", p.Events)
	}
	v, err := db.Verify(context.Background())
	if err != nil || !v.OK || v.StartSeq != 3 || v.Checked != 7 {
		t.Fatalf("verify after prune = %+v %+v, %v", v, v.Broken, err)
	}
	// Once 3 settles, 3..5 go (4 is dead: settled too).
	_ = db.SettleForTest(ids[3], "app", inbox.DeliveryDelivered)
	_ = db.SettleForTest(ids[5], "app", inbox.DeliveryDelivered)
	rep, err = db.Prune(t0.Add(6 * time.Second))
	if err != nil || rep.Removed != 3 || rep.HeldBy != "" || rep.Checkpoint != 6 {
		t.Fatalf("second prune = %+v, %v", rep, err)
	}
	if dl, _ := db.DeadLetters(inbox.DeadLetterFilter{}); len(dl) != 0 {
		t.Errorf("dead letter of a removed event kept: %+v", dl)
	}
	if at, _ := db.Attempts(ids[4]); len(at) != 0 {
		t.Errorf("history of a removed event kept: %+v", at)
	}
	if seq, _, _ := db.Checkpoint(); seq != 6 {
		t.Errorf("checkpoint = %d", seq)
	}
	v, _ = db.Verify(context.Background())
	if !v.OK || v.Checked != 4 {
		t.Errorf("verify after second prune = %+v %+v", v, v.Broken)
	}
	// The chain goes on from the head.
	r, _ := db.Accept(context.Background(), newEvent("new", `{"new":1}`))
	if v, _ := db.Verify(context.Background()); !v.OK || v.Checked != 5 || v.LastSeq != 11 {
		t.Errorf("verify after new event %s = %+v", r.ID, v)
	}
}

func TestRetentionLoopRuns(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{Retention: time.Minute, RetentionInterval: 20 * time.Millisecond})
	defer db.Close()
	ev := newEvent("old", `{}`)
	ev.ReceivedAt = time.Now().Add(-time.Hour)
	r, _ := db.Accept(context.Background(), ev)
	badger.WaitFor(t, "retention to remove the old event", func() bool {
		_, err := db.Event(r.ID)
		return err != nil
	})
}

func TestAccessTrailIsBounded(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{TrailLogSize: 5})
	defer db.Close()
	for i := range 8 {
		if err := db.LogAccess(inbox.Access{Token: "abc", Action: "view", EventIDs: []string{fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.AccessTrail(0, 100)
	if err != nil || len(got) != 5 || got[0].Seq != 8 || got[4].Seq != 4 || got[0].EventIDs[0] != "7" {
		t.Fatalf("trail = %+v, %v", got, err)
	}
	older, _ := db.AccessTrail(got[1].Seq, 2)
	if len(older) != 2 || older[0].Seq != 6 {
		t.Errorf("older = %+v", older)
	}
}

// A check running while retention removes events must not report the
// removal as a break.
func TestVerifyDuringPrune(t *testing.T) {
	db := mustOpen(t, t.TempDir(), badger.Options{})
	defer db.Close()
	t0 := time.Now().Add(-time.Hour)
	for i := range 400 {
		ev := newEvent(fmt.Sprint("i-", i), fmt.Sprintf(`{"n":%d}`, i))
		ev.ReceivedAt = t0.Add(time.Duration(i) * time.Second)
		if _, err := db.Accept(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 40; i++ {
			if _, err := db.Prune(t0.Add(time.Duration(i*10) * time.Second)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		rep, err := db.Verify(context.Background())
		if err != nil || !rep.OK {
			t.Fatalf("verify during prune: %+v %v, %v", rep, rep.Broken, err)
		}
	}
	if rep, _ := db.Verify(context.Background()); !rep.OK || rep.Checked != 0 || rep.StartSeq != 400 {
		t.Errorf("after pruning everything: %+v", rep)
	}
}

// A store opened again prunes at once, not one interval later, so a node
// restarted more often than the interval still applies retention.
func TestRetentionRunsAtOpen(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, badger.Options{})
	ev := newEvent("old", `{}`)
	ev.ReceivedAt = time.Now().Add(-time.Hour)
	r, err := db.Accept(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpen(t, dir, badger.Options{Retention: time.Minute, RetentionInterval: time.Hour})
	defer db.Close()
	badger.WaitFor(t, "retention at open to remove the old event", func() bool {
		_, err := db.Event(r.ID)
		return err != nil
	})
}
