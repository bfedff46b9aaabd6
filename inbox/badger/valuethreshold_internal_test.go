package badger

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
)

// TestSmallRecordsStayInTheTree: the records the forwarder scans and
// rewrites for every attempt stay under the value threshold at their
// largest (a 63-character destination, a 64-character interview id), so
// they never go to the value log, which is written once and never rewritten.
func TestSmallRecordsStayInTheTree(t *testing.T) {
	dest, iv := strings.Repeat("d", 63), strings.Repeat("i", 64)
	due := time.Date(2026, 11, 23, 13, 55, 33, 438123456, time.FixedZone("", 5*3600+1800))
	for name, v := range map[string]any{
		"outbox entry": inbox.Delivery{EventID: "01M84B1JDVN4E20PE4A9ETT7RA", Destination: dest, InterviewID: iv,
			Seq: 1<<64 - 1, Attempts: 100, Total: 100, DueAt: due, Failures: 100},
		"delivery state": inbox.DeliveryState{Destination: dest, Status: inbox.DeliveryPending, Attempts: 100, NextAt: due, UpdatedAt: due},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) >= valueThreshold {
			t.Errorf("%s encodes to %d bytes, not under the value threshold %d", name, len(b), valueThreshold)
		}
	}
}
