package gateway

// Log field keys of the ingest route's lines, beside httpserve's.
const (
	fieldSource  = "source"
	fieldEventID = "event_id"
	fieldEvent   = "event"
)

// maxLoggedField bounds a value taken from a payload on a log line: an
// authentic delivery may carry an event type of any length.
const maxLoggedField = 128

// clip cuts s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
