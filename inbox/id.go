package inbox

import (
	"time"

	"github.com/oklog/ulid/v2"
)

// Event ids are ULIDs: 26 characters whose byte order is time order. The
// archive's searches walk one index prefix newest first and stop at the
// time bound, so their cost follows the size of the answer, not of the
// archive.

// idAt is the smallest event id that can carry time t (millisecond
// precision); every id of an event archived at or after t sorts at or
// after it.
func idAt(t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t))
	return id.String()
}

// IDTime is the archive time encoded in event id, the zero time when id
// is not an event id.
func IDTime(id string) time.Time {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}
	}
	return ulid.Time(u.Time()).UTC()
}
