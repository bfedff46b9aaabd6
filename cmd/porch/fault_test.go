package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porchgw/porch/loadgen"
)

// Fault tests: the real binary under conditions an edge box meets. They
// share the process helpers in crash_test.go.

// mountTmpfs mounts a tmpfs of size on dir for the test, or skips when
// that is not permitted outside CI.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("cannot mount a tmpfs (%v: %s); needs root (CI runs it)", err, out)
		}
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}

// postFresh sends one new delivery to target.
func postFresh(c *http.Client, tg *loadgen.Target) (loadgen.Delivery, int, answer, error) {
	d, _ := loadgen.NewDelivery(tg, procEvents[tg.Provider], loadgen.NewUUID(), tg.Secret, time.Now())
	status, a, err := post(c, tg.URL, d)
	return d, status, a, err
}

// TestFaultDiskFull runs the store on a 24 MiB tmpfs and fills it: porch
// must answer 503 (never a 200 it cannot keep, never crash), report not
// ready, and take deliveries again once space is freed.
func TestFaultDiskFull(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	fs := filepath.Join(dir, "fs")
	mountTmpfs(t, fs, "24m")
	filler := filepath.Join(fs, "filler")
	if err := os.WriteFile(filler, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	// 12 MiB kept free: below it porch must refuse (limits.min_free_bytes).
	yaml := testConfig(filepath.Join(fs, "store"), "http://127.0.0.1:1/unused") + "limits: {min_free_bytes: 12582912}\n"
	cfg := writeProcConfig(t, dir, yaml)
	p := startPorch(t, bin, cfg)
	c := loadgen.NewClient(4)
	tg := procTargets(p.listen)[0]

	var kept []acked
	refused := 0
	for i := 0; refused < 20; i++ {
		if i > 20000 {
			t.Fatalf("the disk never filled: %d deliveries kept", len(kept))
		}
		d, status, a, err := postFresh(c, tg)
		switch {
		case err != nil:
			t.Fatalf("delivery %d: %v (porch died?)\n%s", i, err, p.tail())
		case status == http.StatusOK:
			kept = append(kept, acked{d: d, id: a.ID})
		case status == http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("delivery %d: status %d %+v, want 200 or 503", i, status, a)
		}
	}
	if len(kept) == 0 {
		t.Fatal("refused from the start: the test's filler leaves too little space to show the disk filling")
	}
	t.Logf("disk full after %d deliveries", len(kept))
	if code := getStatus(t, c, "http://"+p.listen+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz on a full disk = %d, want 503", code)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "a delivery accepted after space returned", func() bool {
		_, status, _, err := postFresh(c, tg)
		return err == nil && status == http.StatusOK
	})
	if code := getStatus(t, c, "http://"+p.listen+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz after space returned = %d, want 200", code)
	}
	for _, a := range kept {
		status, ans, err := post(c, tg.URL, a.d)
		if err != nil || status != http.StatusOK || !ans.Duplicate || ans.ID != a.id {
			t.Fatalf("delivery acknowledged on the filling disk: resend got %d %+v (%v), want duplicate of %s", status, ans, err, a.id)
		}
	}
}

func getStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestFaultSlowLoris opens connections that dribble their headers a byte
// at a time: read_header_timeout must cut each one, while good deliveries
// keep getting 200.
func TestFaultSlowLoris(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	yaml := testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:1/unused") + "limits: {read_header_timeout: 1s}\n"
	p := startPorch(t, bin, writeProcConfig(t, dir, yaml))

	const lorises = 16
	cut := make(chan error, lorises)
	for range lorises {
		go func() { cut <- dribble(p.listen, 30*time.Second) }()
	}
	c := loadgen.NewClient(4)
	tg := procTargets(p.listen)[1]
	good := 0
	for done := 0; done < lorises; {
		select {
		case err := <-cut:
			if err != nil {
				t.Fatalf("slow-loris connection: %v", err)
			}
			done++
		default:
			_, status, a, err := postFresh(c, tg)
			if err != nil || status != http.StatusOK {
				t.Fatalf("good delivery during slow-loris: %d %+v (%v)", status, a, err)
			}
			good++
		}
	}
	t.Logf("all %d slow connections cut; %d good deliveries answered 200 meanwhile", lorises, good)
}

// dribble writes a request's headers one byte every 100ms and returns nil
// once the server closes the connection, or an error if it is still open
// after limit.
func dribble(addr string, limit time.Duration) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(closed) }()
	msg := []byte("POST /in/koji HTTP/1.1\r\nHost: porch\r\nX-Slow: " + string(make([]byte, 1000)))
	deadline := time.After(limit)
	for _, b := range msg {
		select {
		case <-closed:
			return nil
		case <-deadline:
			return errors.New("still open: read_header_timeout did not cut it")
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{b}); err != nil {
			return nil // cut
		}
	}
	return errors.New("sent a whole header section byte by byte without being cut")
}

// TestFaultBadSignatureFlood floods porch with wrongly signed deliveries
// from many senders while a few send good ones: every good delivery gets
// 200 and every bad one 401.
func TestFaultBadSignatureFlood(t *testing.T) {
	bin := buildPorch(t)
	dir := t.TempDir()
	p := startPorch(t, bin, writeProcConfig(t, dir, testConfig(filepath.Join(dir, "data"), "http://127.0.0.1:1/unused")))
	targets := procTargets(p.listen)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var bad, badWrong atomic.Int64
	var wg sync.WaitGroup
	flood := loadgen.NewClient(16)
	for i := range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				tg := targets[i%2]
				d, _ := loadgen.NewDelivery(tg, procEvents[tg.Provider], loadgen.NewUUID(), "not-"+tg.Secret, time.Now())
				status, _, err := post(flood, tg.URL, d)
				if err == nil && ctx.Err() == nil {
					bad.Add(1)
					if status != http.StatusUnauthorized {
						badWrong.Add(1)
					}
				}
			}
		})
	}
	c := loadgen.NewClient(4)
	var goodWG sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		goodWG.Go(func() {
			for range 100 {
				_, status, a, err := postFresh(c, targets[i%2])
				if err != nil || status != http.StatusOK || a.Duplicate {
					errs <- errors.New("good delivery during the flood: " + http.StatusText(status) + " " + a.Error)
					return
				}
			}
		})
	}
	goodWG.Wait()
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if badWrong.Load() > 0 {
		t.Errorf("%d of %d badly signed deliveries were not answered 401", badWrong.Load(), bad.Load())
	}
	t.Logf("400 good deliveries answered 200 among %d bad ones", bad.Load())
}
