package loadgen

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/porchgw/porch/sender"
)

// Kind says what a generated delivery is meant to test.
type Kind int

// Delivery kinds.
const (
	Fresh Kind = iota // a new event with a unique interview id
	Dup               // an exact resend of an earlier fresh delivery (a provider retry)
	Bad               // signed with the wrong secret: must get 401
)

func (k Kind) String() string { return [...]string{"fresh", "dup", "bad"}[k] }

// Target is one gateway source to send to.
type Target struct {
	Source   string // source name in the gateway's config
	Provider string // "koji" | "gather"
	Secret   string // a secret the source accepts
	URL      string // full ingest URL, e.g. http://127.0.0.1:8080/in/koji
}

// Delivery is one request ready to send.
type Delivery struct {
	Kind        Kind
	Target      *Target
	Event       string
	InterviewID string
	Body        []byte
	Header      http.Header
}

// NewDelivery builds a fresh delivery of event for interview, signed with
// secret exactly as t's provider signs it.
func NewDelivery(t *Target, event, interview, secret string, now time.Time) (Delivery, error) {
	if !sender.Known(t.Provider) {
		return Delivery{}, fmt.Errorf("unknown provider %q", t.Provider)
	}
	return signed(t, event, interview, sender.Sample(t.Provider, event, interview, now), secret, now), nil
}

// Request builds the HTTP request for d.
func (d Delivery) Request() (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, d.Target.URL, bytes.NewReader(d.Body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = d.Header.Clone()
	return req, nil
}

// placeholder is the interview id templates are built with; fresh
// deliveries replace it with a new UUID of the same length.
const placeholder = "ffffffff-eeee-4ddd-bccc-aaaaaaaaaaaa"

// dedupableEvents lists the provider's events whose sample body carries the
// interview id as a whole JSON string, so a fresh id makes a fresh event
// (the others dedup on fixed ids, and Koji answers an unsigned one without
// interview data 200 as an endpoint check).
func dedupableEvents(provider string) ([]string, error) {
	if !sender.Known(provider) {
		return nil, fmt.Errorf("unknown provider %q", provider)
	}
	var out []string
	for _, ev := range sender.Events(provider) {
		if bytes.Contains(sender.Sample(provider, ev, placeholder, time.Now()), []byte(`"`+placeholder+`"`)) {
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("provider %s: no event carries an interview id", provider)
	}
	return out, nil
}

// Generator makes a stream of deliveries over some targets: fresh ones
// with unique interview ids, and a chosen fraction of duplicates and of
// bad signatures. A Generator is used by one goroutine.
type Generator struct {
	targets []*Target
	events  map[string][]string
	dup     float64
	bad     float64
	now     func() time.Time
	rng     *rand.Rand
	recent  []Delivery // fresh deliveries to resend as duplicates
	n       int
	tmpl    map[string]template // provider/event → body with the placeholder id
}

// template is a sample body built once per second: building bodies with
// the providers' JSON.stringify-compatible encoder costs more than a
// bare net/http server spends per request, so the generator substitutes
// the interview id into a template and signs the result.
type template struct {
	body []byte
	at   int64 // unix second it was built for
}

// NewGenerator builds a generator. dup and bad are fractions in [0,1].
func NewGenerator(targets []*Target, dup, bad float64, seed uint64) (*Generator, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("no targets")
	}
	if dup < 0 || bad < 0 || dup+bad > 1 {
		return nil, fmt.Errorf("dup %.2f and bad %.2f must be >= 0 and sum to at most 1", dup, bad)
	}
	g := &Generator{targets: targets, events: map[string][]string{}, dup: dup, bad: bad, tmpl: map[string]template{},
		now: time.Now, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for _, t := range targets {
		evs, err := dedupableEvents(t.Provider)
		if err != nil {
			return nil, err
		}
		g.events[t.Provider] = evs
	}
	return g, nil
}

// Next returns the next delivery.
func (g *Generator) Next() Delivery {
	g.n++
	r := g.rng.Float64()
	switch {
	case r < g.dup && len(g.recent) > 0:
		d := g.recent[g.rng.IntN(len(g.recent))]
		d.Kind = Dup
		return d
	case r >= g.dup && r < g.dup+g.bad:
		d := g.fresh("wrong-" + g.pick().Secret)
		d.Kind = Bad
		return d
	}
	d := g.fresh("")
	if len(g.recent) < 64 {
		g.recent = append(g.recent, d)
	} else {
		g.recent[g.rng.IntN(len(g.recent))] = d
	}
	return d
}

func (g *Generator) pick() *Target { return g.targets[g.n%len(g.targets)] }

// fresh builds a new delivery with a unique interview id, signed with
// secret (the target's own when empty).
func (g *Generator) fresh(secret string) Delivery {
	t := g.pick()
	if secret == "" {
		secret = t.Secret
	}
	evs := g.events[t.Provider]
	ev, now, id := evs[g.rng.IntN(len(evs))], g.now(), NewUUID()
	key := t.Provider + "/" + ev
	tp, ok := g.tmpl[key]
	if !ok || tp.at != now.Unix() {
		tp = template{body: sender.Sample(t.Provider, ev, placeholder, now), at: now.Unix()}
		g.tmpl[key] = tp
	}
	body := bytes.ReplaceAll(tp.body, []byte(placeholder), []byte(id))
	return signed(t, ev, id, body, secret, now)
}

// signed wraps body, signed with secret as t's provider signs it, as a
// Delivery.
func signed(t *Target, event, interview string, body []byte, secret string, now time.Time) Delivery {
	h := sender.Sign(t.Provider, body, secret, now)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "porch-bench")
	return Delivery{Kind: Fresh, Target: t, Event: event, InterviewID: interview, Body: body, Header: h}
}

// NewUUID returns a random version-4 UUID, the shape both providers use
// for interview ids.
func NewUUID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
