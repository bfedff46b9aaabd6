package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// response is what one attempt brought back.
type response struct {
	status     int
	err        error
	latency    time.Duration
	body       string        // first inbox.MaxAttemptResponse bytes
	retryAfter time.Duration // from Retry-After, 0 if none
	location   string        // a redirect's Location
	errText    string        // err's text with the URL's user information and query hidden
}

// newClient builds dest's HTTP client: short in-process retries for
// blips, with the final response passed through for classification.
func newClient(cfg *Config, dest *Destination, key []byte, stopping func() bool, log logrus.FieldLogger) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	// Keep a connection per concurrent request: with the pooled default
	// (GOMAXPROCS+1 idle connections) a destination at concurrency 16
	// dialled a new connection for most requests.
	tr := cleanhttp.DefaultPooledTransport()
	tr.MaxIdleConnsPerHost = max(dest.Concurrency, tr.MaxIdleConnsPerHost)
	tr.MaxIdleConns = max(tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	// Redirects are not followed: Go's client would turn a 301/302/303
	// into a GET without the body (and settle the attempt on that GET's
	// answer), and a 307/308 would carry the signed body to a host nobody
	// configured. A 3xx is the attempt's answer, a failure like any other
	// non-2xx, and its history names the Location.
	c.HTTPClient = &http.Client{Timeout: dest.Timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.Logger = leveledLogger{log, urlScrubber(dest.URL)}
	c.RetryMax = max(cfg.HTTPRetries, 0)
	c.RetryWaitMin = min(100*time.Millisecond, cfg.HTTPRetryWaitMax)
	c.RetryWaitMax = cfg.HTTPRetryWaitMax
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	retryable := cfg.Retryable
	c.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil || stopping() {
			return false, nil
		}
		if resp == nil {
			return retryable(0, err), nil
		}
		// A Retry-After is a request to wait: the durable schedule does it.
		if resp.StatusCode < 300 || resp.Header.Get("Retry-After") != "" {
			return false, nil
		}
		return retryable(resp.StatusCode, err), nil
	}
	c.Backoff = func(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
		return min(retryablehttp.DefaultBackoff(lo, hi, n, nil), hi)
	}
	now := cfg.Now
	// Each in-process retry is re-signed so its timestamp is fresh.
	c.PrepareRetry = func(req *http.Request) error {
		body, err := req.GetBody()
		if err != nil {
			return err
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		signHeaders(req.Header, key, req.Header.Get(HeaderID), now(), b)
		return nil
	}
	return c
}

// send makes one attempt: POST out to dest, signed for ev's id.
func send(ctx context.Context, c *retryablehttp.Client, url string, key []byte, id string, out *outbound, now func() time.Time) response {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, url, out.body)
	if err != nil {
		return response{err: fmt.Errorf("%w: %w", errCannotBuild, err)}
	}
	req.Header = out.header.Clone()
	signHeaders(req.Header, key, id, now(), out.body)
	start := time.Now()
	resp, err := c.Do(req)
	r := response{err: err, latency: time.Since(start)}
	if err != nil {
		r.errText = urlScrubber(url)(err.Error())
	}
	if resp == nil {
		if r.err == nil {
			r.err = errors.New("no response")
		}
		return r
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	b, _ := io.ReadAll(io.LimitReader(resp.Body, inbox.MaxAttemptResponse))
	r.body = string(bytes.ToValidUTF8(b, []byte("?")))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now())
	r.location = resp.Header.Get("Location")
	r.latency = time.Since(start)
	if r.status >= 200 && r.status < 300 {
		r.err = nil
	}
	return r
}

// clipLocation is a redirect's Location as an attempt's history shows
// it: without user information, at most 200 bytes, valid UTF-8.
func clipLocation(loc string) string {
	if u, err := url.Parse(loc); err == nil && u.User != nil {
		u.User = nil
		loc = u.String()
	}
	if len(loc) > 200 {
		loc = loc[:200] + "…"
	}
	return strings.ToValidUTF8(loc, "?")
}

// attemptRecord turns r into the history line of attempt number n.
func attemptRecord(at time.Time, n int, r response) inbox.Attempt {
	a := inbox.Attempt{
		Kind: inbox.AttemptSend, At: at, Number: n, Status: r.status,
		LatencyMS: r.latency.Milliseconds(), LatencyUS: max(r.latency.Microseconds(), 1), Response: r.body,
	}
	switch {
	case r.err != nil && r.errText != "":
		a.Error = r.errText
	case r.err != nil:
		a.Error = r.err.Error()
	case r.status >= 300 && r.status < 400:
		a.Error = "status " + strconv.Itoa(r.status) + ": redirects are not followed; set the destination's url to where it points"
		if loc := r.location; loc != "" {
			a.Error += " (" + clipLocation(loc) + ")"
		}
	case r.status < 200 || r.status >= 300:
		a.Error = "status " + strconv.Itoa(r.status)
	}
	return a
}
