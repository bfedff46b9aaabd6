package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/sender"
)

// TestOutcomeEventIsBounded delivers authentic events of documented and
// made-up types to a real listener: the event reported to Observe (the
// porch_deliveries_total label) must be a documented type or "other", so
// a sender cannot mint a metric series per request.
func TestOutcomeEventIsBounded(t *testing.T) {
	outcomes := make(chan gateway.Outcome, 16)
	srv, _ := startGateway(t, gateway.Config{
		Sources: []gateway.Source{kojiSource(kojiSecret), {Name: "gather", Provider: "gather",
			ProviderConfig: gateway.ProviderConfig{Secrets: []string{gatherSecret}}}},
		Observe: func(o gateway.Outcome) { outcomes <- o },
	})
	now := time.Now()
	for _, tc := range []struct{ source, event, want string }{
		{"koji", "interview.completed", "interview.completed"},
		{"koji", "report.generated", "report.generated"},
		{"koji", "interview.x-7f3a9c", "other"},
		{"gather", "candidate_interview.completed", "candidate_interview.completed"},
		{"gather", "candidate_interview.completed\u2028", "other"},
		{"gather", "interview.", "other"},
	} {
		def, _ := gateway.Lookup(tc.source)
		secret := map[string]string{"koji": kojiSecret, "gather": gatherSecret}[tc.source]
		body := sender.Sample(def.Name, tc.event, "i-"+tc.want, now)
		a := postDelivery(t, nil, "http://"+srv.Addr(), tc.source, body, sender.Sign(def.Name, body, secret, now))
		if a.Status != http.StatusOK {
			t.Fatalf("%s %q: answer %+v", tc.source, tc.event, a)
		}
		if o := <-outcomes; o.Event != tc.want || o.Result != gateway.ResultAccepted {
			t.Errorf("%s %q: outcome event %q result %q, want %q accepted", tc.source, tc.event, o.Event, o.Result, tc.want)
		}
	}
}
