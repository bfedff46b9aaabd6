package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func init() {
	register("sink", "stand in for an app: receive forwarded events, verify their signatures, print them", runSink)
}

// runSink is `porch sink`: a stand-in for an app team's handler, for the
// quick start and for trying failure handling (--status).
func runSink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sink", "--config FILE [--destination NAME] [--listen ADDR] [--status CODE] [--body]", stdout, stderr)
	path := configFlag(fs)
	name := fs.String("destination", "", "destination whose URL and secret to use (default: the config's first)")
	listen := fs.String("listen", "", "address to listen on (default: the destination URL's host:port)")
	status := fs.Int("status", http.StatusNoContent, "status to answer every request with: 2xx to accept, e.g. 503 to watch retries or 410 to make dead letters")
	body := fs.Bool("body", false, "print each request's body too (pretty-printed JSON)")
	cfg, code, ok := loadConfigFlagNoStore(fs, path, args)
	if !ok {
		return code
	}
	if *status < 200 || *status > 599 {
		return badFlag(stderr, "sink", "status", "%d is not an HTTP status (200 to 599)", *status)
	}
	var dest *Destination
	for i := range cfg.Destinations {
		if *name == "" || cfg.Destinations[i].Name == *name {
			dest = &cfg.Destinations[i]
			break
		}
	}
	switch {
	case dest == nil && *name == "":
		fmt.Fprintf(stderr, "porch sink: %s has no destinations: the sink stands in for a destination's app and takes its URL and secret from one\n", *path)
		return 2
	case dest == nil:
		fmt.Fprintf(stderr, "porch sink: --destination: no destination named %q in %s\n", *name, *path)
		return 2
	}
	if *listen != "" {
		if err := checkListenFlag(*listen); err != nil {
			return badFlag(stderr, "sink", "listen", "%v", err)
		}
	}
	addr := *listen
	if addr == "" {
		u, err := url.Parse(dest.URL)
		if err != nil || u.Port() == "" {
			fmt.Fprintf(stderr, "porch sink: destination %s: cannot listen on %q; pass --listen\n", dest.Name, redactURL(dest.URL))
			return 2
		}
		addr = net.JoinHostPort(u.Hostname(), u.Port())
	}
	s, err := newSink(dest.Secret, *status, *body, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "porch sink: destination %s: secret: %v\n", dest.Name, err)
		return 2
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "porch sink: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "porch sink: receiving for destination %s (%s) on http://%s, answering %d (Ctrl-C to stop)\n", dest.Name, redactURL(dest.URL), ln.Addr(), *status)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "porch sink: %v\n", err)
		return 1
	}
	return 0
}

// sink verifies and prints each request, one line each.
type sink struct {
	wh     *standardwebhooks.Webhook
	status int
	body   bool
	mu     sync.Mutex
	out    io.Writer
	seen   map[string]int  // webhook-id → requests, to point out redeliveries
	taken  map[string]bool // webhook-ids answered 2xx
}

func newSink(secret string, status int, body bool, out io.Writer) (*sink, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	return &sink{wh: wh, status: status, body: body, out: out, seen: map[string]int{}, taken: map[string]bool{}}, nil
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	verdict, status := "signature ok", s.status
	if err := s.wh.Verify(b, r.Header); err != nil {
		verdict, status = "SIGNATURE REJECTED ("+err.Error()+")", http.StatusUnauthorized
	}
	id := r.Header.Get("webhook-id")
	interview := r.Header.Get("X-Porch-Interview-Id")
	if interview == "" {
		interview = "-"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[id]++
	again := ""
	switch n := s.seen[id]; {
	case s.taken[id]:
		again = fmt.Sprintf("  (request %d with this webhook-id, already accepted: a duplicate to drop)", n)
	case n > 1:
		again = fmt.Sprintf("  (request %d with this webhook-id: a retry)", n)
	}
	if status < 300 {
		s.taken[id] = true
	}
	fmt.Fprintf(s.out, "%s %s %s %s:%s interview=%s attempt=%s %d bytes, %s -> %d%s\n",
		time.Now().UTC().Format("15:04:05.000"), termText(r.Method), termText(id),
		termText(r.Header.Get("X-Porch-Source")), termText(r.Header.Get("X-Porch-Event")), termText(interview),
		termText(r.Header.Get("X-Porch-Attempt")), len(b), verdict, status, again)
	if s.body {
		var pretty bytes.Buffer
		if json.Indent(&pretty, b, "  ", "  ") == nil {
			fmt.Fprintf(s.out, "  %s\n", termJSON(bytes.TrimSpace(pretty.Bytes())))
		} else {
			fmt.Fprintf(s.out, "  %q\n", b)
		}
	}
	w.WriteHeader(status)
}
