package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
	"github.com/sirupsen/logrus"
)

// accessHook hands every access-log line to the test, so it can wait for
// the line of each request instead of polling a buffer.
type accessHook chan logrus.Fields

func (accessHook) Levels() []logrus.Level { return []logrus.Level{logrus.InfoLevel} }

func (h accessHook) Fire(e *logrus.Entry) error {
	if e.Message == "request" {
		f := make(logrus.Fields, len(e.Data))
		for k, v := range e.Data {
			f[k] = v
		}
		h <- f
	}
	return nil
}

// outcomeRig is a real ingest listener over a real store in a temp dir,
// with every Observe call and access-log line sent to the test.
type outcomeRig struct {
	base     string
	outcomes chan gateway.Outcome
	lines    accessHook
}

// Interview ids whose Accept fails the way a sick store does; every
// other delivery reaches the real store.
const (
	ivNotDurable = "i-not-durable"
	ivBroken     = "i-broken"
)

func startOutcomeRig(t *testing.T) outcomeRig {
	t.Helper()
	db := openInbox(t)
	store := storeFunc(func(ctx context.Context, ev *inbox.Event) (inbox.Result, error) {
		switch ev.InterviewID {
		case ivNotDurable:
			return inbox.Result{}, fmt.Errorf("accept: %w", inbox.ErrNotDurable)
		case ivBroken:
			return inbox.Result{}, errors.New("accept: disk on fire")
		}
		return db.Accept(ctx, ev)
	})
	rig := outcomeRig{outcomes: make(chan gateway.Outcome, 4), lines: make(accessHook, 4)}
	log := logrus.New()
	log.SetOutput(io.Discard)
	log.AddHook(rig.lines)
	walled, limited := kojiSource(kojiSecret), kojiSource(kojiSecret)
	walled.Name, walled.Ingress.AllowCIDRs = "walled", []string{"192.0.2.0/24"}
	// One token that takes about three hours to come back: the second
	// request is over the limit however slow the machine is.
	limited.Name, limited.Ingress.RPS, limited.Ingress.Burst = "limited", 0.0001, 1
	srv, err := gateway.New(gateway.Config{
		Listen: "127.0.0.1:0", MaxBodyBytes: 16 << 10,
		Sources: []gateway.Source{kojiSource(kojiSecret), walled, limited},
		Observe: func(o gateway.Outcome) { rig.outcomes <- o },
	}, store, db, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	rig.base = "http://" + srv.Addr()
	return rig
}

// kojiDelivery is a Koji delivery of interview signed with secret ("" for
// unsigned).
func kojiDelivery(interview, secret string) func() ([]byte, http.Header) {
	return func() ([]byte, http.Header) {
		def, _ := gateway.Lookup("koji")
		body := sender.Sample(def.Name, "interview.completed", interview, time.Now())
		if secret == "" {
			return body, http.Header{}
		}
		return body, sender.Sign(def.Name, body, secret, time.Now())
	}
}

// signedBody is body with a valid Koji signature.
func signedBody(body []byte) func() ([]byte, http.Header) {
	return func() ([]byte, http.Header) {
		def, _ := gateway.Lookup("koji")
		return body, sender.Sign(def.Name, body, kojiSecret, time.Now())
	}
}

// TestEveryOutcome sends the real listener one request for each outcome
// documented for porch_deliveries_total and checks what Observe hears,
// the status answered, and the access-log line. The rows run in order:
// the duplicate repeats the first delivery, and the rate-limited request
// follows the one that took the limit's only token.
func TestEveryOutcome(t *testing.T) {
	rig := startOutcomeRig(t)
	quarantine := []byte(`{"event":"interview.completed","data":{"interview_id":"i-no-time"}}`)
	tests := []struct {
		name, source string
		request      func() ([]byte, http.Header)
		want         gateway.Outcome // Duration is not compared
	}{
		{"accepted", "koji", kojiDelivery("i-1", kojiSecret),
			gateway.Outcome{Source: "koji", Event: "interview.completed", Result: gateway.ResultAccepted, Status: 200, SigMode: gateway.ModeRaw}},
		{"duplicate", "koji", kojiDelivery("i-1", kojiSecret),
			gateway.Outcome{Source: "koji", Event: "interview.completed", Result: gateway.ResultDuplicate, Status: 200, SigMode: gateway.ModeRaw, Duplicate: true}},
		{"quarantined", "koji", signedBody(quarantine),
			gateway.Outcome{Source: "koji", Event: gateway.OtherEvent, Result: gateway.ResultQuarantined, Status: 200, SigMode: gateway.ModeRaw}},
		{"control", "koji", func() ([]byte, http.Header) { return []byte(`{}`), http.Header{} },
			gateway.Outcome{Source: "koji", Result: gateway.ResultControl, Status: 200, SecretIndex: -1}},
		{"rejected", "koji", kojiDelivery("i-2", "not-the-secret"),
			gateway.Outcome{Source: "koji", Result: gateway.ResultRejected, Status: 401, SecretIndex: -1}},
		{"forbidden", "walled", kojiDelivery("i-3", kojiSecret),
			gateway.Outcome{Source: "walled", Result: gateway.ResultForbidden, Status: 403, SecretIndex: -1}},
		{"first within the rate limit", "limited", kojiDelivery("i-4", kojiSecret),
			gateway.Outcome{Source: "limited", Event: "interview.completed", Result: gateway.ResultAccepted, Status: 200, SigMode: gateway.ModeRaw}},
		{"rate_limited", "limited", kojiDelivery("i-5", kojiSecret),
			gateway.Outcome{Source: "limited", Result: gateway.ResultRateLimited, Status: 429, SecretIndex: -1}},
		{"too_large", "koji", func() ([]byte, http.Header) { return bytes.Repeat([]byte("x"), 32<<10), http.Header{} },
			gateway.Outcome{Source: "koji", Result: gateway.ResultTooLarge, Status: 413, SecretIndex: -1}},
		{"unavailable", "koji", kojiDelivery(ivNotDurable, kojiSecret),
			gateway.Outcome{Source: "koji", Result: gateway.ResultUnavailable, Status: 503, SecretIndex: -1}},
		{"unknown_source", "nope", kojiDelivery("i-6", kojiSecret),
			gateway.Outcome{Source: gateway.UnknownSource, Result: gateway.ResultUnknownSource, Status: 404, SecretIndex: -1}},
		{"error", "koji", kojiDelivery(ivBroken, kojiSecret),
			gateway.Outcome{Source: "koji", Result: gateway.ResultError, Status: 500, SecretIndex: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, h := tt.request()
			a := postDelivery(t, nil, rig.base, tt.source, body, h)
			rig.check(t, a.Status, tt.want)
		})
	}
	t.Run("bad_request", func(t *testing.T) {
		status := postBrokenChunks(t, rig.base, "koji")
		rig.check(t, status, gateway.Outcome{Source: "koji", Result: gateway.ResultBadRequest, Status: 400, SecretIndex: -1})
	})
	select {
	case o := <-rig.outcomes:
		t.Errorf("an outcome nobody asked for: %+v", o)
	default:
	}
}

// check compares the answer's status, the one outcome Observe heard and
// the access-log line with want.
func (rig outcomeRig) check(t *testing.T, status int, want gateway.Outcome) {
	t.Helper()
	if status != want.Status {
		t.Errorf("answered %d, want %d", status, want.Status)
	}
	got := <-rig.outcomes
	got.Duration = 0
	if got != want {
		t.Errorf("outcome\n got %+v\nwant %+v", got, want)
	}
	line := <-rig.lines
	if line["status"] != want.Status {
		t.Errorf("access line status %v, want %d", line["status"], want.Status)
	}
	authentic := want.SigMode != ""
	if _, ok := line["event_id"]; ok != authentic {
		t.Errorf("access line has event_id: %v, want %v (%v)", ok, authentic, line)
	}
	if authentic && line["source"] != want.Source {
		t.Errorf("access line source %v, want %s", line["source"], want.Source)
	}
}

// postBrokenChunks sends a POST to /in/source whose chunked body is
// malformed, which net/http's own client will not do, and returns the
// status answered.
func postBrokenChunks(t *testing.T, base, source string) int {
	t.Helper()
	conn, err := net.Dial("tcp", base[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /in/%s HTTP/1.1\r\nHost: porch\r\nContent-Type: application/json\r\n"+
		"Transfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n", source)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
