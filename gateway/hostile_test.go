package gateway_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
)

const gatherSecret = "test-gather-secret"

// hostileSources are a Koji and a Gather source, for deliveries of both.
func hostileSources() []gateway.Source {
	return []gateway.Source{
		kojiSource(kojiSecret),
		{Name: "gather", Provider: "gather", ProviderConfig: gateway.ProviderConfig{Secrets: []string{gatherSecret}}},
	}
}

// signedDelivery is a fresh, really signed delivery to source i%2.
func signedDelivery(t testing.TB, i int) (source string, body []byte, h http.Header) {
	t.Helper()
	source, provider, event, secret := "koji", "koji", "interview.completed", kojiSecret
	if i%2 == 1 {
		source, provider, event, secret = "gather", "gather", "candidate_interview.completed", gatherSecret
	}
	def, _ := gateway.Lookup(provider)
	now := time.Now()
	body = sender.Sample(def.Name, event, fmt.Sprintf("iv-%d-%d", i, now.UnixNano()), now)
	return source, body, sender.Sign(def.Name, body, secret, now)
}

// idleUpload is a connection that sent a request head (and at most one
// byte of body) and then nothing.
type idleUpload struct {
	conn    net.Conn
	chunked bool
	answer  chan string // the first status line after 100 Continue
}

// holdIdleUpload opens an upload to addr that stalls: chunked with no
// chunk, or a declared 1 MiB of which one byte is sent. It asks for 100
// Continue, which the server sends only once the handler starts reading
// the body, so when it returns the server is holding the request.
func holdIdleUpload(addr string, chunked bool) (*idleUpload, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return holdIdleUploadOn(conn, chunked)
}

// holdUploadOn is holdIdleUpload, chunked, on an open connection.
func holdUploadOn(conn net.Conn) (*idleUpload, error) { return holdIdleUploadOn(conn, true) }

func holdIdleUploadOn(conn net.Conn, chunked bool) (*idleUpload, error) {
	head := "POST /in/koji HTTP/1.1\r\nHost: porch\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += "Content-Length: 1048576\r\n\r\n"
	}
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	line, err := readHead(br)
	if err != nil || line != "HTTP/1.1 100 Continue" {
		conn.Close()
		return nil, fmt.Errorf("idle upload: got %q (%v), want 100 Continue", line, err)
	}
	if !chunked {
		if _, err := conn.Write([]byte("{")); err != nil {
			conn.Close()
			return nil, err
		}
	}
	u := &idleUpload{conn: conn, chunked: chunked, answer: make(chan string, 1)}
	go func() {
		line, err := readHead(br)
		if err != nil {
			line = "closed: " + err.Error()
		}
		u.answer <- line
	}()
	return u, nil
}

// readHead reads a response head and returns its status line.
func readHead(br *bufio.Reader) (string, error) {
	status, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		if l == "\r\n" {
			return status[:len(status)-2], nil
		}
	}
}

// stillHeld reports whether the server has not answered or closed u.
func (u *idleUpload) stillHeld() bool {
	select {
	case line := <-u.answer:
		u.answer <- line
		return false
	default:
		return true
	}
}

// Idle uploads hold the ingest listener's connections, but not the
// memory budget good deliveries need: 200 of them stay open while a
// steady stream of Koji and Gather deliveries all get 200.
func TestIdleUploadsDoNotStarveDeliveries(t *testing.T) {
	srv, _ := startGateway(t, gateway.Config{
		Sources: hostileSources(), ReadTimeout: 10 * time.Minute, // held for the whole test
	})
	const idle = 200
	uploads := make([]*idleUpload, 0, idle)
	defer func() {
		for _, u := range uploads {
			u.conn.Close()
		}
	}()
	for i := range idle {
		u, err := holdIdleUpload(srv.Addr(), i%2 == 0)
		if err != nil {
			t.Fatalf("idle upload %d: %v", i, err)
		}
		uploads = append(uploads, u)
	}

	const senders, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan string, senders*each)
	client := &http.Client{Timeout: 30 * time.Second}
	for s := range senders {
		wg.Go(func() {
			for j := range each {
				source, body, h := signedDelivery(t, s*each+j)
				if a := postDelivery(t, client, "http://"+srv.Addr(), source, body, h); a.Status != http.StatusOK || a.Duplicate {
					errs <- fmt.Sprintf("%s delivery %d while %d uploads idle: %d %q", source, j, idle, a.Status, a.Error)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	held := 0
	for _, u := range uploads {
		if u.stillHeld() {
			held++
		}
	}
	if held != idle {
		t.Errorf("%d of %d idle uploads were cut; none needed to be", idle-held, idle)
	}
	// The chunked ones were really open all along: finished now, each gets
	// an answer (a control request, 200), not a timeout.
	for _, u := range uploads {
		if !u.chunked {
			continue
		}
		if _, err := io.WriteString(u.conn, "2\r\n{}\r\n0\r\n\r\n"); err != nil {
			t.Fatalf("finishing an idle upload: %v", err)
		}
		if line := <-u.answer; line != "HTTP/1.1 200 OK" {
			t.Errorf("finished idle upload answered %q, want 200 OK", line)
		}
	}
}

// holdPartialUpload opens an upload of a declared size, sends part of it
// and stalls; it returns once the server has started reading it.
func holdPartialUpload(addr string, declared, sent int) (*idleUpload, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("POST /in/koji HTTP/1.1\r\nHost: porch\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", declared)
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	if line, err := readHead(br); err != nil || line != "HTTP/1.1 100 Continue" {
		conn.Close()
		return nil, fmt.Errorf("partial upload: got %q (%v), want 100 Continue", line, err)
	}
	u := &idleUpload{conn: conn, answer: make(chan string, 1)}
	go func() {
		_, _ = conn.Write(make([]byte, sent)) // fails once the server cuts it
		line, err := readHead(br)
		if err != nil {
			line = "closed: " + err.Error()
		}
		u.answer <- line
	}()
	return u, nil
}

// Uploads that send most of a large body and stop fill the budget; a
// delivery that arrives whole still gets 200, by cutting the oldest of
// them, and the memory held never passes the budget.
func TestStalledUploadsAreCutForWholeDeliveries(t *testing.T) {
	const budget = 1 << 20
	srv, _ := startGateway(t, gateway.Config{
		Sources: hostileSources(), ReadTimeout: 10 * time.Minute, MaxBodyBytes: 256 << 10, MaxInflightBytes: budget,
	})
	var uploads []*idleUpload
	defer func() {
		for _, u := range uploads {
			u.conn.Close()
		}
	}()
	for i := range 6 { // 6 x 200 KB sent: more than the budget holds
		u, err := holdPartialUpload(srv.Addr(), 256<<10, 200<<10)
		if err != nil {
			t.Fatalf("stalled upload %d: %v", i, err)
		}
		uploads = append(uploads, u)
	}
	waitFor(t, "the stalled uploads to fill the budget", func() bool { return srv.BodyBytesInUse() > budget-(256<<10) })

	client := &http.Client{Timeout: 30 * time.Second}
	for i := range 20 {
		source, body, h := signedDelivery(t, i)
		if a := postDelivery(t, client, "http://"+srv.Addr(), source, body, h); a.Status != http.StatusOK {
			t.Fatalf("%s delivery %d behind stalled uploads: %d %q, want 200", source, i, a.Status, a.Error)
		}
		if used := srv.BodyBytesInUse(); used > budget {
			t.Fatalf("bodies hold %d bytes, over the %d budget", used, budget)
		}
	}
	cut := 0
	for _, u := range uploads {
		if !u.stillHeld() {
			cut++
		}
	}
	t.Logf("%d of %d stalled uploads answered or closed", cut, len(uploads))
	if n := srv.Protection().UploadsCut; n == 0 {
		t.Error("no upload counted as cut, though the budget was full of them")
	}
}

// waitFor polls cond until it holds, for state only the server (or the
// browser) can see: the package's one wait on background work. The 60 s
// bound only stops a hang; it is generous for the race detector on a
// loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// proxyChain is 240 X-Forwarded-For headers of 250 bytes: about 60 KB, a
// hostile client's (or a hostile proxy chain's) worth.
func proxyChain(h http.Header) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	for i := range 240 {
		h.Add("X-Forwarded-For", fmt.Sprintf("%0250d", i))
	}
	return h
}

// headerBytes is the size of h's names and values.
func headerBytes(h map[string][]string) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// What is kept of a request's headers is bounded, in the rejection log
// and in the archive; an authentic delivery's signature header is kept
// whole, so the archive still shows the evidence.
func TestHeadersKeptAreBounded(t *testing.T) {
	srv, db := startGateway(t, gateway.Config{Sources: hostileSources()})
	base := "http://" + srv.Addr()
	if a := postDelivery(t, nil, base, "koji", []byte(`{}`), proxyChain(nil)); a.Status != http.StatusOK {
		t.Fatalf("unsigned control request with a long proxy chain: %+v, want 200", a)
	}
	rej := waitRejection(t, db, func(r inbox.Rejection) bool { return r.Kind == "control" })
	if n := headerBytes(rej.Headers); n > inbox.MaxHeaderBytes+64 {
		t.Errorf("rejection log entry keeps %d bytes of headers, want at most about %d", n, inbox.MaxHeaderBytes)
	}
	// The note of what was left out counts against what arrived (240 values).
	if xff := rej.Headers["X-Forwarded-For"]; len(xff) == 0 || xff[len(xff)-1] != fmt.Sprintf("…%d more", 240-inbox.MaxHeaderValues) {
		t.Errorf("rejection log entry's X-Forwarded-For ends %q, want the count of the %d values left out", xff[len(xff)-1:], 240-inbox.MaxHeaderValues)
	}

	source, body, h := signedDelivery(t, 0)
	a := postDelivery(t, nil, base, source, body, proxyChain(h))
	if a.Status != http.StatusOK {
		t.Fatalf("signed delivery through a long proxy chain: %+v, want 200", a)
	}
	ev, err := db.Event(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if xff := ev.Headers["X-Forwarded-For"]; len(xff) > inbox.MaxHeaderValues+1 || headerBytes(ev.Headers) > inbox.MaxHeaderBytes+1024 {
		t.Errorf("archived event keeps %d X-Forwarded-For values, %d bytes of headers", len(xff), headerBytes(ev.Headers))
	}
	for k, want := range h {
		if got := ev.Headers[k]; len(got) != len(want) || got[0] != want[0] {
			t.Errorf("archived signature header %s = %q, want %q intact", k, got, want)
		}
	}
}

// dialFrom connects to addr from the local address from (another
// loopback address stands for another client).
func dialFrom(from, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return d.Dial("tcp", addr)
}

// One client address may hold only MaxConnsPerClient connections: past
// that its connections are closed on accept, while other clients'
// deliveries are still served.
func TestConnectionsPerClientAreCapped(t *testing.T) {
	const most = 10
	srv, _ := startGateway(t, gateway.Config{Sources: hostileSources(), MaxConnsPerClient: most, ReadTimeout: 10 * time.Minute})
	var held []*idleUpload
	defer func() {
		for _, u := range held {
			u.conn.Close()
		}
	}()
	for i := range most {
		conn, err := dialFrom("127.0.0.2", srv.Addr())
		if err != nil {
			t.Skipf("cannot dial from 127.0.0.2: %v", err)
		}
		u, err := holdUploadOn(conn)
		if err != nil {
			t.Fatalf("connection %d of %d: %v", i+1, most, err)
		}
		held = append(held, u)
	}
	conn, err := dialFrom("127.0.0.2", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if u, err := holdUploadOn(conn); err == nil {
		u.conn.Close()
		t.Fatalf("connection %d from one client was served, want it closed", most+1)
	}
	if n := srv.Protection().ConnsRefused; n != 1 {
		t.Errorf("connections refused counted %d, want 1", n)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range 10 {
		source, body, h := signedDelivery(t, i)
		if a := postDelivery(t, client, "http://"+srv.Addr(), source, body, h); a.Status != http.StatusOK {
			t.Fatalf("delivery %d from another client: %+v, want 200", i, a)
		}
	}
	held[0].conn.Close() // a slot comes free once a connection closes
	waitFor(t, "a connection slot to come free", func() bool {
		conn, err := dialFrom("127.0.0.2", srv.Addr())
		if err != nil {
			return false
		}
		u, err := holdUploadOn(conn)
		if err != nil {
			conn.Close()
			return false
		}
		held[0] = u
		return true
	})
}

// A flood of large bodies arriving whole stays within the in-flight
// budget: each is answered (401, or 503 when it had to make room and was
// cut or found none in time), and all the room comes back.
func TestBigBodyFloodStaysWithinBudget(t *testing.T) {
	const budget = 1 << 20
	srv, _ := startGateway(t, gateway.Config{Sources: hostileSources(), MaxBodyBytes: 256 << 10, MaxInflightBytes: budget})
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var most int64
		for {
			select {
			case <-stop:
				peak <- most
				return
			default:
				most = max(most, srv.BodyBytesInUse())
				runtime.Gosched()
			}
		}
	}()
	body := append([]byte(`{"event":"candidate_interview.completed","pad":"`), bytes.Repeat([]byte("x"), 250<<10)...)
	body = append(body, `"}`...)
	h := http.Header{"X-Qualifi-Signature": {"t=1,v1=bm90LWEtc2lnbmF0dXJl"}}
	var wg sync.WaitGroup
	statuses := make(chan int, 16*5)
	client := &http.Client{Timeout: 30 * time.Second}
	for range 16 {
		wg.Go(func() {
			for range 5 {
				statuses <- postDelivery(t, client, "http://"+srv.Addr(), "gather", body, h).Status
			}
		})
	}
	wg.Wait()
	close(stop)
	close(statuses)
	for s := range statuses {
		if s != http.StatusUnauthorized && s != http.StatusServiceUnavailable {
			t.Errorf("large unsigned body answered %d, want 401 or 503", s)
		}
	}
	if most := <-peak; most > budget {
		t.Errorf("bodies held %d bytes at once, over the %d budget", most, budget)
	}
	waitFor(t, "every body's room to come back", func() bool { return srv.BodyBytesInUse() == 0 })
}

// A body of exactly MaxBodyBytes fits a budget of the same size, with or
// without a declared length: the budget counts the body, not the read
// that meets its end.
func TestBodyOfTheWholeBudgetFits(t *testing.T) {
	const size = 64 << 10
	srv, _ := startGateway(t, gateway.Config{Sources: hostileSources(), MaxBodyBytes: size, MaxInflightBytes: size, AckTimeout: 200 * time.Millisecond})
	def, _ := gateway.Lookup("koji")
	for _, chunked := range []bool{false, true} {
		now := time.Now()
		body := sender.Sample(def.Name, "interview.completed", fmt.Sprintf("iv-whole-%v", chunked), now)
		body = append(body, bytes.Repeat([]byte(" "), size-len(body))...)
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.Addr()+"/in/koji", bytes.NewReader(body))
		if chunked {
			req, _ = http.NewRequest(http.MethodPost, "http://"+srv.Addr()+"/in/koji", io.MultiReader(bytes.NewReader(body)))
		}
		for k, v := range sender.Sign(def.Name, body, kojiSecret, now) {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("body of exactly the budget (chunked %v): %d, want 200", chunked, resp.StatusCode)
		}
	}
	over := io.MultiReader(bytes.NewReader(make([]byte, size+1))) // chunked: no length to refuse up front
	resp, err := http.Post("http://"+srv.Addr()+"/in/koji", "application/json", over)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body one byte over the limit: %d, want 413", resp.StatusCode)
	}
}
