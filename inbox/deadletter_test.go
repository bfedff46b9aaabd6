package inbox_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/porchgw/porch/inbox"
)

func TestReplayTargets(t *testing.T) {
	only := func(names ...string) func(string) bool {
		return func(n string) bool { return slices.Contains(names, n) }
	}
	ev := &inbox.Event{ID: "E1", Status: inbox.StatusAccepted, Destinations: []string{"app", "crm"}}
	quarantined := &inbox.Event{ID: "E2", Status: inbox.StatusQuarantined, Destinations: []string{"app"}}
	none := &inbox.Event{ID: "E3", Status: inbox.StatusAccepted}
	kept := &inbox.Event{ID: "E4", Status: inbox.StatusDuplicate, DuplicateOf: "E1"}
	for _, tc := range []struct {
		name   string
		ev     *inbox.Event
		dest   string
		serves func(string) bool
		want   []string
		errMsg string // "" means no error
	}{
		{"all, every destination served", ev, "", nil, []string{"app", "crm"}, ""},
		{"one", ev, "crm", nil, []string{"crm"}, ""},
		{"all, one removed", ev, "", only("crm"), []string{"crm"}, ""},
		{"all, both removed", ev, "", only(), nil, `destinations "app", "crm" are not configured`},
		{"the removed one", ev, "app", only("crm"), nil, `destination "app" is not configured`},
		{"not the event's", ev, "billing", only("billing"), nil, `has no destination "billing"`},
		{"quarantined", quarantined, "", nil, nil, "quarantined"},
		{"no destinations", none, "", only(), nil, ""},
		{"kept duplicate", kept, "", nil, nil, "kept duplicate of E1; replay that event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inbox.ReplayTargets(tc.ev, tc.dest, inbox.ReplayRequest{Serves: tc.serves})
			switch {
			case tc.errMsg == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.errMsg != "" && (!errors.Is(err, inbox.ErrNotForwardable) || !strings.Contains(err.Error(), tc.errMsg)):
				t.Fatalf("error %v, want ErrNotForwardable saying %q", err, tc.errMsg)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("targets %q, want %q", got, tc.want)
			}
		})
	}
}

// A kept duplicate with an over-long interview id stays a kept duplicate
// (never forwarded either way), so status=duplicate finds it.
func TestPrepareKeepsDuplicateStatus(t *testing.T) {
	ev := &inbox.Event{Status: inbox.StatusDuplicate, DuplicateOf: "E1", InterviewID: strings.Repeat("i", inbox.MaxKeyPart+1)}
	inbox.Prepare(ev)
	if ev.Status != inbox.StatusDuplicate || ev.QuarantineReason != "" {
		t.Errorf("prepared kept duplicate: status %q, reason %q", ev.Status, ev.QuarantineReason)
	}
}
