package inbox

import (
	"fmt"
)

// maxRecentSightings bounds the duplicate deliveries listed per event.
const maxRecentSightings = 20

// quarantineUnindexable quarantines an authentic event whose interview
// id or type is longer than any a provider sends (longer than
// MaxKeyPart): it is archived and indexed by hash, but not forwarded,
// since it would not fit a destination's request headers or routes. Like
// any quarantined event it names no destinations.
func quarantineUnindexable(ev *Event) {
	if ev.Status == StatusQuarantined || (len(ev.InterviewID) <= MaxKeyPart && len(ev.Type) <= MaxKeyPart) {
		return
	}
	ev.Status, ev.Destinations = StatusQuarantined, nil
	ev.QuarantineReason = fmt.Sprintf("interview id or event type longer than %d bytes", MaxKeyPart)
}
