package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/porchgw/porch/inbox"
	inboxbadger "github.com/porchgw/porch/inbox/badger"
	"github.com/porchgw/porch/loadgen"
)

// Fault tests for hostile clients on the real binary; process helpers are
// in crash_test.go.

// stalledUpload is a connection that sent a request head, and perhaps a
// byte of body, and then nothing.
type stalledUpload struct {
	conn    net.Conn
	chunked bool
	answer  chan string // the status line that ended it, or why it closed
}

// openStalledUpload starts an upload to addr that stalls: chunked with no
// chunk, or a declared 1 MiB of which one byte is sent. It asks for 100
// Continue, which porch sends once its handler reads the body, so when it
// returns porch is holding the request.
func openStalledUpload(addr string, chunked bool) (*stalledUpload, error) {
	return openStalledUploadFrom("", addr, chunked)
}

// openStalledUploadFrom is openStalledUpload from local address from (""
// picks one): another loopback address stands for another client.
func openStalledUploadFrom(from, addr string, chunked bool) (*stalledUpload, error) {
	var d net.Dialer
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	head := "POST /in/koji HTTP/1.1\r\nHost: porch\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += "Content-Length: 1048576\r\n\r\n"
	}
	br := bufio.NewReader(conn)
	_, err = io.WriteString(conn, head)
	var line string
	if err == nil {
		line, err = statusLine(br)
	}
	if err == nil && line != "HTTP/1.1 100 Continue" {
		err = fmt.Errorf("answered %q, want 100 Continue", line)
	}
	if err == nil && !chunked {
		_, err = conn.Write([]byte("{"))
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	u := &stalledUpload{conn: conn, chunked: chunked, answer: make(chan string, 1)}
	go func() {
		line, err := statusLine(br)
		if err != nil {
			line = "closed: " + err.Error()
		}
		u.answer <- line
	}()
	return u, nil
}

// statusLine reads a response head and returns its status line.
func statusLine(br *bufio.Reader) (string, error) {
	status, err := br.ReadString('\n')
	for l := status; err == nil && l != "\r\n"; {
		l, err = br.ReadString('\n')
	}
	if err != nil {
		return "", err
	}
	return status[:len(status)-2], nil
}

// held reports whether porch has neither answered nor closed u.
func (u *stalledUpload) held() bool {
	select {
	case line := <-u.answer:
		u.answer <- line
		return false
	default:
		return true
	}
}

// TestFaultIdleUploads fills the in-flight body budget with uploads that
// sent most of their body and stopped, then holds 200 uploads open that
// sent their head and then nothing (more than the budget could hold at
// their declared size), while a steady stream of signed Koji and Gather
// deliveries comes in: every delivery gets 200 and every idle upload
// stays open.
func TestFaultIdleUploads(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	// Uploads are held for the whole test, and all 240 of them come from
	// one address: this test is about the body budget, not that cap.
	yaml := testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:1/unused") + "limits: {read_timeout: 10m, max_conns_per_client: 1000}\n"
	p := startPorch(t, bin, writeProcConfig(t, dir, yaml))

	// First, uploads that send 900 KiB of a declared 1 MiB and stop: 40 of
	// them are more than the 32 MiB budget, so they cut each other until
	// it is full.
	const partial = 40
	for i := range partial {
		u, err := openStalledUpload(p.listen, false)
		if err != nil {
			t.Fatalf("partial upload %d: %v", i, err)
		}
		defer u.conn.Close()
		go func() { _, _ = u.conn.Write(make([]byte, 900<<10)) }()
	}
	waitUntil(t, 30*time.Second, "the partial uploads to fill the body budget", func() bool {
		return scrapeCounter(t, p.admin, "porch_ingest_uploads_cut_total") > 0
	})

	const idle = 200
	var uploads []*stalledUpload
	defer func() {
		for _, u := range uploads {
			u.conn.Close()
		}
	}()
	for i := range idle {
		u, err := openStalledUpload(p.listen, i%2 == 0)
		if err != nil {
			t.Fatalf("idle upload %d: %v", i, err)
		}
		uploads = append(uploads, u)
	}

	const senders, each = 4, 50
	targets := procTargets(p.listen)
	c := loadgen.NewClient(senders)
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				tg := targets[(i+j)%2]
				_, status, a, err := postFresh(c, tg)
				if err != nil || status != http.StatusOK || a.Duplicate {
					errs <- fmt.Errorf("%s delivery with %d idle uploads open: %d %+v (%v)", tg.Source, idle, status, a, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		failed++
		t.Error(err)
	}
	held := 0
	for _, u := range uploads {
		if u.held() {
			held++
		}
	}
	t.Logf("%d of %d deliveries answered 200 while %d of %d idle uploads were held open; %d uploads cut, %d answered 503 for a full budget",
		senders*each-failed, senders*each, held, idle,
		scrapeCounter(t, p.admin, "porch_ingest_uploads_cut_total"), scrapeCounter(t, p.admin, "porch_ingest_budget_full_total"))
	if held != idle {
		t.Errorf("%d idle uploads were cut; none needed to be", idle-held)
	}
	for _, u := range uploads { // the chunked ones, finished, are answered
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

// withProxyChain is h plus 240 X-Forwarded-For headers of 250 bytes:
// about 60 KB of headers, just under max_header_bytes.
func withProxyChain(h http.Header) http.Header {
	h = h.Clone()
	for i := range 240 {
		h.Add("X-Forwarded-For", fmt.Sprintf("%0250d", i))
	}
	return h
}

// TestFaultHeaderFloodKeepsStoreBounded sends porch hundreds of unsigned
// requests with 60 KB of X-Forwarded-For each (Koji control requests:
// answered 200 and logged), and signed deliveries with the same proxy
// chain. After a clean stop the store holds a rejection log within
// archive.rejected_log_bytes, and no entry or event keeps the chain.
func TestFaultHeaderFloodKeepsStoreBounded(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	const logLimit = 64 << 10
	data := filepath.Join(dir, "data")
	yaml := testConfig(data, "http://127.0.0.1:1/unused") + fmt.Sprintf("archive: {rejected_log_bytes: %d}\n", logLimit)
	p := startPorch(t, bin, writeProcConfig(t, dir, yaml))
	c := loadgen.NewClient(1)
	tg := procTargets(p.listen)

	const floods, signed = 300, 20
	for i := range floods {
		d := loadgen.Delivery{Target: tg[0], Body: []byte(`{}`), Header: withProxyChain(http.Header{"Content-Type": {"application/json"}})}
		status, a, err := post(c, tg[0].URL, d)
		if err != nil || status != http.StatusOK || !a.Control {
			t.Fatalf("flood request %d: %d %+v (%v), want 200 control", i, status, a, err)
		}
	}
	var ids []string
	for i := range signed {
		d, _ := loadgen.NewDelivery(tg[i%2], procEvents[tg[i%2].Provider], loadgen.NewUUID(), tg[i%2].Secret, time.Now())
		d.Header = withProxyChain(d.Header)
		status, a, err := post(c, tg[i%2].URL, d)
		if err != nil || status != http.StatusOK {
			t.Fatalf("signed delivery %d through the proxy chain: %d %+v (%v)", i, status, a, err)
		}
		ids = append(ids, a.ID)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.exited

	db, err := inboxbadger.Open(inboxbadger.Options{Dir: data, RejectedLogBytes: logLimit})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.Rejections(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	total, largest := 0, 0
	for _, r := range entries {
		b, _ := json.Marshal(r)
		total, largest = total+len(b), max(largest, len(b))
	}
	t.Logf("%d requests of ~60 KB headers: the rejection log keeps %d entries, %d bytes (largest entry %d bytes)", floods, len(entries), total, largest)
	if len(entries) == 0 || total > logLimit || largest > inbox.MaxRejectionBytes {
		t.Errorf("rejection log: %d entries, %d bytes, largest %d; want some, at most %d bytes, each at most %d",
			len(entries), total, largest, logLimit, inbox.MaxRejectionBytes)
	}
	for _, id := range ids {
		ev, err := db.Event(id)
		if err != nil {
			t.Fatal(err)
		}
		if xff := ev.Headers["X-Forwarded-For"]; len(xff) > inbox.MaxHeaderValues+1 {
			t.Fatalf("event %s keeps %d X-Forwarded-For values", id, len(xff))
		}
	}
}

// TestFaultConnectionsPerClient lets one client address hold
// limits.max_conns_per_client stalled uploads: its next connection is
// closed unserved, while another client's deliveries all get 200.
func TestFaultConnectionsPerClient(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	const most = 20
	yaml := testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:1/unused") + fmt.Sprintf("limits: {read_timeout: 10m, max_conns_per_client: %d}\n", most)
	p := startPorch(t, bin, writeProcConfig(t, dir, yaml))
	var uploads []*stalledUpload
	defer func() {
		for _, u := range uploads {
			u.conn.Close()
		}
	}()
	for i := range most {
		u, err := openStalledUploadFrom("127.0.0.2", p.listen, true)
		if err != nil {
			t.Fatalf("stalled upload %d of %d from 127.0.0.2: %v", i+1, most, err)
		}
		uploads = append(uploads, u)
	}
	if u, err := openStalledUploadFrom("127.0.0.2", p.listen, true); err == nil {
		u.conn.Close()
		t.Fatalf("upload %d from one client was served, want its connection closed", most+1)
	}
	if n := scrapeCounter(t, p.admin, "porch_ingest_connections_refused_total"); n != 1 {
		t.Errorf("porch_ingest_connections_refused_total = %d, want 1", n)
	}
	c := loadgen.NewClient(2)
	for i := range 20 {
		tg := procTargets(p.listen)[i%2]
		if _, status, a, err := postFresh(c, tg); err != nil || status != http.StatusOK {
			t.Fatalf("%s delivery from 127.0.0.1 while 127.0.0.2 holds %d connections: %d %+v (%v)", tg.Source, most, status, a, err)
		}
	}
}

// scrapeCounter reads counter name from the admin listener's /metrics.
func scrapeCounter(t *testing.T, admin, name string) uint64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return uint64(n)
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}
