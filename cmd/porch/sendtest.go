package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/porchgw/porch/sender"
)

func init() {
	register("send-test", "sign sample deliveries exactly as a provider would and POST them", runSendTest)
}

func runSendTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("send-test", "--config FILE --source NAME [--event TYPE] [--interview-id ID] [--url URL] [--insecure]", stdout, stderr)
	path := configFlag(fs)
	name := fs.String("source", "", "source to send to, as named in the config (required)")
	event := fs.String("event", "", "event type to send (default: every documented event of the provider)")
	url := fs.String("url", "", "where to POST (default: this config's own listener, /in/SOURCE)")
	interview := fs.String("interview-id", "", "interview id to use (default: a fresh random one). With an id, bodies carry the start of the day (UTC; of a shorter period when a koji source's max_body_age is under a day) as their event times, so sending again is a duplicate, as a provider's retry would be")
	insecure := fs.Bool("insecure", false, "skip TLS certificate checks (for a local listener with a public certificate)")
	cfg, code, ok := loadConfigFlagNoStore(fs, path, args)
	if !ok {
		return code
	}
	if *name == "" {
		fmt.Fprintln(stderr, "porch send-test: --source is required")
		return 2
	}
	src, ok := cfg.source(*name)
	if !ok {
		fmt.Fprintf(stderr, "porch send-test: --source: no source named %q in %s\n", *name, *path)
		return 2
	}
	documented := sender.Events(src.Provider)
	events := documented
	if *event != "" {
		if !slices.Contains(documented, *event) {
			fmt.Fprintf(stderr, "porch send-test: --event: %s documents no event %q; it documents %s\n", src.Provider, *event, strings.Join(documented, ", "))
			return 2
		}
		events = []string{*event}
	}
	if *url != "" {
		if err := checkURLFlag(*url); err != nil {
			return badFlag(stderr, "send-test", "url", "%v", err)
		}
	}
	target := *url
	if target == "" {
		target = cfg.selfURL() + "/in/" + src.Name
	}
	iv := *interview
	bodyTime := time.Time{} // now, per delivery
	if iv == "" {
		iv = newUUID()
	} else {
		// A resend must be byte for byte what a provider's retry would be,
		// and a koji body must stay younger than max_body_age or it is
		// refused as stale: the period is a day, or half of a shorter
		// max_body_age.
		period := 24 * time.Hour
		if src.Provider == providerKoji && src.MaxBodyAge > 0 && src.MaxBodyAge < period {
			period = src.MaxBodyAge / 2
		}
		bodyTime = time.Now().UTC().Truncate(period)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	if *insecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	failed := 0
	for _, ev := range events {
		if !sendOne(ctx, client, src.Provider, src.Secrets[0], target, ev, iv, bodyTime, stdout) {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "porch send-test: %d of %d deliveries were not answered 200\n", failed, len(events))
		return 1
	}
	return 0
}

// sendOne posts one signed sample and prints the answer. The body's
// event times are bodyTime (zero: now); the signature is always made now.
func sendOne(ctx context.Context, c *http.Client, provider, secret, url, event, interview string, bodyTime time.Time, out io.Writer) bool {
	now := time.Now()
	if bodyTime.IsZero() {
		bodyTime = now
	}
	body := sender.Sample(provider, event, interview, bodyTime)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(out, "%s %s: %v\n", provider, event, err)
		return false
	}
	for k, v := range sender.Sign(provider, body, secret, now) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "porch-send-test")
	resp, err := c.Do(req)
	if err != nil {
		fmt.Fprintf(out, "POST %s  %-36s  error: %v\n", url, event, err)
		return false
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(out, "POST %s  %-36s  %d %s\n", url, event, resp.StatusCode, strings.TrimSpace(string(answer)))
	return resp.StatusCode == http.StatusOK
}

// newUUID returns a random version-4 UUID, the shape both providers use
// for interview ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
