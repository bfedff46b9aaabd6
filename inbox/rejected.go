package inbox

import (
	"encoding/json"
	"fmt"
)

// encodeRejection is r as stored (LogRejection bounded its headers),
// without its headers if the entry would still pass MaxRejectionBytes.
func encodeRejection(r *Rejection) ([]byte, error) {
	b, err := json.Marshal(r)
	if err == nil && len(b) > MaxRejectionBytes {
		r.Headers, r.Reason = nil, clipText(r.Reason, 512)
		b, err = json.Marshal(r)
	}
	if err != nil {
		return nil, fmt.Errorf("encode rejection: %w", err)
	}
	return b, nil
}
