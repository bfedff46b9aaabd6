package inbox

// Record is one line of an archive export: the event's metadata with its
// chain fields, and the raw body (base64 in JSON). It carries everything
// VerifyExport needs, so an export can be checked without the server.
type Record struct {
	*Event
	Body []byte `json:"body"`
}
