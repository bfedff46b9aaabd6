package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/loadgen"
)

// TestLongFieldsFailNoOtherDelivery sends, all at once to the real
// binary, 150 ordinary deliveries and signed deliveries whose interview
// id or event type is 70 KB, longer than a store key may be. Every one
// gets 200; the long ones are archived byte for byte (quarantined), and a
// resend of one is recognised as its duplicate.
func TestLongFieldsFailNoOtherDelivery(t *testing.T) {
	bin := buildPorch(t)
	sink := loadgen.NewSink()
	dest := httptest.NewServer(sink)
	defer dest.Close()
	dir := t.TempDir()
	p := startPorch(t, bin, writeProcConfig(t, dir, testConfig(filepath.Join(dir, "data"), dest.URL)))
	targets := procTargets(p.listen)
	koji := targets[0]
	now := time.Now()

	var ds []loadgen.Delivery
	for i := range 4 {
		long := strings.Repeat(fmt.Sprint(i), 70_000)
		d, err := loadgen.NewDelivery(koji, "interview.completed", long, koji.Secret, now)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	d, err := loadgen.NewDelivery(koji, "interview."+strings.Repeat("t", 70_000), loadgen.NewUUID(), koji.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	ds = append(ds, d)
	nLong := len(ds)
	for i := range 150 {
		tg := targets[i%len(targets)]
		d, err := loadgen.NewDelivery(tg, procEvents[tg.Provider], loadgen.NewUUID(), tg.Secret, now)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}

	c := loadgen.NewClient(len(ds))
	status := make([]int, len(ds))
	answers := make([]answer, len(ds))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			<-start
			var err error
			status[i], answers[i], err = post(c, d.Target.URL, d)
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	failed := 0
	for i := range ds {
		if status[i] != http.StatusOK || answers[i].Duplicate {
			failed++
			t.Logf("delivery %d (long: %v): status %d %+v", i, i < nLong, status[i], answers[i])
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d deliveries not answered 200 as new events", failed, len(ds))
	}

	for i, d := range ds[:nLong] {
		id := answers[i].ID
		if raw := adminGet(t, c, p.admin, "/api/v1/events/"+id+"/raw"); string(raw) != string(d.Body) {
			t.Errorf("long delivery %d: archived body differs", i)
		}
		var ev struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(adminGet(t, c, p.admin, "/api/v1/events/"+id), &ev); err != nil || ev.Status != "quarantined" {
			t.Errorf("long delivery %d: status %q (%v), want quarantined", i, ev.Status, err)
		}
	}
	st, again, err := post(c, ds[0].Target.URL, ds[0])
	if err != nil || st != http.StatusOK || !again.Duplicate || again.ID != answers[0].ID {
		t.Errorf("resending a long delivery: %d %+v (%v), want a duplicate of %s", st, again, err, answers[0].ID)
	}
}
