package enrich

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Provider names.
const (
	ProviderKoji   = "koji"
	ProviderGather = "gather"
)

// Auth schemes.
const (
	AuthBearer = "bearer"    // Koji: Authorization: Bearer <key>
	AuthAPIKey = "x-api-key" // Gather: x-api-key: <key>
	AuthBasic  = "basic"     // Gather (older scheme): Basic base64(organizationId:apiKey)
)

// api is what differs between the providers' APIs.
type api struct {
	windows     []Window
	baseURL     string   // the default base URL
	events      []string // the event types enriched by default
	auths       []string // accepted auth schemes, the default first
	fetchPath   func(id string) string
	parseOK     func(body []byte) (answer, error)
	parseErrorB func(body []byte) apiErrorBody
}

// answer is a successful API response, read.
type answer struct {
	Data       json.RawMessage // the record to forward
	RequestID  string          // meta.requestId, when given
	Processing bool            // the provider is still preparing the record
	Raw        []byte          // the whole body
}

// apiErrorBody is what an error body says.
type apiErrorBody struct {
	Code, Message, RequestID string
	ResetAt                  time.Time
}

var apis = map[string]api{
	ProviderKoji: {
		windows:     []Window{{Limit: 60, Size: time.Minute}},
		baseURL:     "https://koji.so/api/v1",
		events:      []string{"interview.analysis_ready"},
		auths:       []string{AuthBearer},
		fetchPath:   func(id string) string { return "/interviews/" + url.PathEscape(id) },
		parseOK:     parseKojiOK,
		parseErrorB: parseKojiError,
	},
	ProviderGather: {
		windows:     []Window{{Limit: 1000, Size: time.Hour}, {Limit: 100, Size: time.Minute}},
		baseURL:     "https://api.prod.qualifi.hr",
		events:      []string{"candidate_interview.completed"},
		auths:       []string{AuthAPIKey, AuthBasic},
		fetchPath:   func(id string) string { return "/qsi/gather/candidate-interviews/" + url.PathEscape(id) + "/results" },
		parseOK:     parseGatherOK,
		parseErrorB: parseGatherError,
	},
}

// setAuth puts the credentials on h.
func setAuth(h http.Header, scheme, key, org string) {
	switch scheme {
	case AuthBearer:
		h.Set("Authorization", "Bearer "+key)
	case AuthBasic:
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(org+":"+key)))
	default:
		h.Set("x-api-key", key)
	}
}

type metaBody struct {
	Meta struct {
		RequestID string `json:"requestId"`
	} `json:"meta"`
}

// parseKojiOK: the shape of Koji's interview record is not documented, so
// the whole body is the record; meta.requestId is read if present.
func parseKojiOK(body []byte) (answer, error) {
	var m metaBody
	if err := json.Unmarshal(body, &m); err != nil {
		return answer{}, errBadAnswer
	}
	return answer{Data: compact(body), RequestID: m.Meta.RequestID, Raw: body}, nil
}

// parseGatherOK reads {data, meta}; data.summaryStatus "processing" means
// the summary is still being written.
func parseGatherOK(body []byte) (answer, error) {
	var env struct {
		Data json.RawMessage `json:"data"`
		metaBody
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return answer{}, errBadAnswer
	}
	var d struct {
		SummaryStatus string `json:"summaryStatus"`
	}
	_ = json.Unmarshal(env.Data, &d) // data that is not an object has no status
	return answer{Data: compact(env.Data), RequestID: env.Meta.RequestID, Processing: d.SummaryStatus == "processing", Raw: body}, nil
}

// compact strips insignificant whitespace, so the record forwarded is
// byte for byte the one stored (the store keeps JSON compact).
func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return json.RawMessage(b)
	}
	return buf.Bytes()
}

// parseKojiError reads {"error":"rate_limited","message":"..."}.
func parseKojiError(body []byte) apiErrorBody {
	var b struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		metaBody
	}
	_ = json.Unmarshal(body, &b)
	return apiErrorBody{Code: b.Error, Message: b.Message, RequestID: b.Meta.RequestID}
}

// parseGatherError reads {"error":{code,message,details},"meta":{requestId}}.
func parseGatherError(body []byte) apiErrorBody {
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details struct {
				ResetAt string `json:"resetAt"`
			} `json:"details"`
		} `json:"error"`
		metaBody
	}
	_ = json.Unmarshal(body, &b)
	out := apiErrorBody{Code: b.Error.Code, Message: b.Error.Message, RequestID: b.Meta.RequestID}
	if t, err := time.Parse(time.RFC3339, b.Error.Details.ResetAt); err == nil {
		out.ResetAt = t
	}
	return out
}

// parseHints reads the rate-limit headers of an answer with status code.
func parseHints(h http.Header, code int, now time.Time) Hints {
	hs := Hints{Remaining: -1, Limited: code == http.StatusTooManyRequests}
	if n, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil && n >= 0 {
		hs.Remaining = n
	}
	if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && n > 0 && n < 1<<40 {
		hs.Reset = time.Unix(n, 0)
	}
	hs.RetryAfter = parseRetryAfter(h.Get("Retry-After"), now)
	return hs
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unreadable. It is capped at a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		d = time.Duration(min(n, 86400)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), 24*time.Hour)
}
