package enrich

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// maxAnswerBytes caps what is read of one API answer.
const maxAnswerBytes = 8 << 20

// Client calls one provider's API with one key. Clients of the same key
// share one Limiter. A Client is safe for concurrent use.
type Client struct {
	api      api
	base     string
	key, org string
	auth     string
	http     *http.Client
	lim      *Limiter
	timeout  time.Duration
	retries  int
	backoff  func(n int) time.Duration
	now      func() time.Time
	sleep    SleepFunc
	log      logrus.FieldLogger
	metrics  *Metrics
}

// DefaultBackoff is the wait before in-call retry n (1, 2, ...) of a 5xx
// or network error: 1s, 2s, 4s ... capped at 30s. 429s wait for the
// limiter instead.
func DefaultBackoff(n int) time.Duration {
	return min(time.Second<<min(max(n-1, 0), 5), 30*time.Second)
}

// get fetches path?query. It waits for the limiter unless that would take
// longer than maxBlock, retries 5xx and network errors up to c.retries
// times with backoff, and 429s up to c.retries times after the
// provider's wait. Being rate limited is never a failure: it returns a
// *DeferredError saying when to come back.
func (c *Client) get(ctx context.Context, path string, query url.Values, maxBlock time.Duration) (answer, error) {
	failures, limited := 0, 0
	for {
		if d := c.lim.Delay(); d > maxBlock {
			return answer{}, c.defer_(d)
		}
		ans, err := c.once(ctx, path, query)
		var ae *APIError
		switch {
		case err == nil || ctx.Err() != nil || !retryable(err):
			return ans, err
		case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
			if limited++; limited > c.retries {
				return answer{}, c.defer_(max(c.lim.Delay(), time.Second))
			}
		case failures >= c.retries:
			return ans, err
		default:
			failures++
			if err := c.sleep(ctx, c.backoff(failures)); err != nil {
				return answer{}, err
			}
		}
		c.metrics.Retries.Add(1)
	}
}

func (c *Client) defer_(d time.Duration) error {
	c.metrics.Deferred.Add(1)
	return &DeferredError{Until: c.now().Add(d)}
}

// once makes one request through the limiter.
func (c *Client) once(ctx context.Context, path string, query url.Values) (answer, error) {
	finish, err := c.lim.Acquire(ctx)
	if err != nil {
		return answer{}, fmt.Errorf("wait for rate limit: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	code, h, body, err := c.do(ctx, path, query)
	if err != nil {
		finish(Hints{Remaining: -1})
		c.metrics.NetworkErrors.Add(1)
		return answer{}, err
	}
	hints := parseHints(h, code, c.now())
	if hints.Limited && hints.RetryAfter == 0 && hints.Reset.IsZero() {
		hints.Reset = c.api.parseErrorB(body).ResetAt // Gather's details.resetAt
	}
	finish(hints)
	return c.read(code, body, path)
}

// do sends the request and reads the answer.
func (c *Client) do(ctx context.Context, path string, query url.Values) (int, http.Header, []byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	setAuth(req.Header, c.auth, c.key, c.org)
	c.metrics.Requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("get %s: %w", path, scrub(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %s: %w", path, scrub(err))
	}
	return resp.StatusCode, resp.Header, body, nil
}

// read turns an answer into a result or an *APIError, and logs it.
func (c *Client) read(code int, body []byte, path string) (answer, error) {
	log := c.log.WithFields(logrus.Fields{"path": path, "status": code})
	if code/100 == 2 {
		ans, err := c.api.parseOK(body)
		if err != nil {
			log.Warn("provider api answer unreadable")
			return answer{}, fmt.Errorf("get %s: %w", path, err)
		}
		log.WithField("provider_request_id", ans.RequestID).Debug("provider api answered")
		return ans, nil
	}
	eb := c.api.parseErrorB(body)
	ae := &APIError{Status: code, Code: eb.Code, Message: truncate(eb.Message, 200), RequestID: eb.RequestID}
	if code == http.StatusTooManyRequests {
		c.metrics.RateLimited.Add(1)
	} else if code >= 500 {
		c.metrics.ServerErrors.Add(1)
	}
	log.WithFields(logrus.Fields{"code": ae.Code, "provider_request_id": ae.RequestID}).Warn("provider api error")
	return answer{}, fmt.Errorf("get %s: %w", path, ae)
}

// scrub keeps the error kind of a transport error but drops any URL it
// quotes, in case an operator put credentials in base_url.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
