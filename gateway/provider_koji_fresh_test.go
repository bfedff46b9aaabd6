package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

// TestKojiStaleReplayIsRefused delivers signed Koji bodies whose timestamp
// is older than the allowed age, or too far ahead, to a real listener on a
// real store: a captured delivery replayed once its dedup key has expired
// (here: a store that never saw it) must be refused with a JSON 401 and
// logged as a rejection, never archived as a new event.
func TestKojiStaleReplayIsRefused(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	srv, db := startGateway(t, gateway.Config{Now: func() time.Time { return now }})
	base := "http://" + srv.Addr()
	def, _ := gateway.Lookup("koji")
	deliver := func(id string, stamped time.Time) answer {
		body := sender.Sample(def.Name, "interview.completed", id, stamped)
		return postDelivery(t, nil, base, "koji", body, sender.Sign(def.Name, body, kojiSecret, stamped))
	}
	for _, tc := range []struct {
		name    string
		stamped time.Time
		want    int
	}{
		{"fresh", now, http.StatusOK},
		{"last koji retry", now.Add(-156 * time.Minute), http.StatusOK},
		{"just inside the default age", now.Add(-gateway.DefaultMaxBodyAge), http.StatusOK},
		{"after the dedup window", now.Add(-8 * 24 * time.Hour), http.StatusUnauthorized},
		{"just past the default age", now.Add(-gateway.DefaultMaxBodyAge - time.Second), http.StatusUnauthorized},
		{"clock skew ahead", now.Add(gateway.MaxFutureSkew), http.StatusOK},
		{"far future", now.Add(365 * 24 * time.Hour), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "i-" + strings.ReplaceAll(tc.name, " ", "-")
			a := deliver(id, tc.stamped)
			if a.Status != tc.want {
				t.Fatalf("answer %+v, want status %d", a, tc.want)
			}
			if tc.want == http.StatusOK {
				return
			}
			if a.Error != gateway.ErrStaleTimestamp.Error() {
				t.Errorf("error %q, want %q", a.Error, gateway.ErrStaleTimestamp)
			}
			r := waitRejection(t, db, func(r inbox.Rejection) bool {
				return r.Status == http.StatusUnauthorized && strings.Contains(r.Reason, tc.stamped.Format(time.RFC3339))
			})
			if r.Kind != "rejected" || r.Source != "koji" {
				t.Errorf("rejection %+v", r)
			}
			if _, err := db.LookupDedup("koji", "interview.completed:"+id); err == nil {
				t.Error("a refused delivery claimed a dedup key")
			}
		})
	}
}

// TestKojiBodyWithoutTimestampIsQuarantined: an authentic Koji body with
// no usable timestamp cannot prove it is fresh, so it is archived but
// quarantined (never forwarded) instead of becoming a new event.
func TestKojiBodyWithoutTimestampIsQuarantined(t *testing.T) {
	srv, db := startGateway(t, gateway.Config{})
	def, _ := gateway.Lookup("koji")
	for _, body := range []string{
		`{"event":"interview.completed","project_id":"p1","data":{"interview_id":"i-none"}}`,
		`{"event":"interview.completed","timestamp":null,"data":{"interview_id":"i-null"}}`,
		`{"event":"interview.completed","timestamp":"last tuesday","data":{"interview_id":"i-words"}}`,
	} {
		a := postDelivery(t, nil, "http://"+srv.Addr(), "koji", []byte(body), sender.Sign(def.Name, []byte(body), kojiSecret, time.Now()))
		if a.Status != http.StatusOK {
			t.Fatalf("%s: answer %+v", body, a)
		}
		ev, err := db.Event(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Status != inbox.StatusQuarantined || len(ev.Destinations) != 0 {
			t.Errorf("%s: status %s destinations %v; want quarantined, none", body, ev.Status, ev.Destinations)
		}
	}
}
