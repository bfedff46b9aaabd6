package inbox_test

import (
	"testing"

	"github.com/porchgw/porch/inbox"
)

func TestTrailClass(t *testing.T) {
	for action, want := range map[string]string{
		"search": inbox.TrailSearch, "verify": inbox.TrailSearch, "rejections": inbox.TrailSearch,
		"view": inbox.TrailSensitive, "raw": inbox.TrailSensitive, "download": inbox.TrailSensitive,
		"export": inbox.TrailSensitive, "deadletters": inbox.TrailSensitive, "replay": inbox.TrailSensitive,
		"backup": inbox.TrailSensitive, "reload": inbox.TrailSensitive, "trail": inbox.TrailSensitive,
		"debug": inbox.TrailSensitive, "": inbox.TrailSensitive, "something new": inbox.TrailSensitive,
	} {
		if got := inbox.TrailClass(action); got != want {
			t.Errorf("TrailClass(%q) = %q, want %q", action, got, want)
		}
	}
}
