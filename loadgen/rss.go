package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ReadRSS returns the resident set size of process pid, from
// /proc/PID/status (Linux only).
func ReadRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("read rss: no VmRSS for pid %d", pid)
}

// RSSSampler records the peak resident set size of a process.
type RSSSampler struct {
	peak atomic.Int64
	done chan struct{}
}

// SampleRSS polls pid's RSS every interval until ctx ends.
func SampleRSS(ctx context.Context, pid int, every time.Duration) *RSSSampler {
	s := &RSSSampler{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if n, err := ReadRSS(pid); err == nil && n > s.peak.Load() {
				s.peak.Store(n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Peak waits for sampling to stop (its ctx must have ended) and returns
// the highest RSS seen, in bytes.
func (s *RSSSampler) Peak() int64 {
	<-s.done
	return s.peak.Load()
}

// PIDListening finds the local process listening on rawURL's TCP port,
// by matching the socket inode in /proc/net/tcp{,6} against the
// processes' open file descriptors. It works for processes the caller may
// inspect (the same user, or root).
func PIDListening(rawURL string) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, fmt.Errorf("find pid: %w", err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("find pid: no port in %q", rawURL)
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningInodes(f, port, inodes)
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("find pid: nothing listens on port %d", port)
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			return strconv.Atoi(strings.Split(fd, "/")[2])
		}
	}
	return 0, fmt.Errorf("find pid: no visible process owns port %d", port)
}

// listeningInodes adds the inodes of sockets in LISTEN state (0A) on port.
func listeningInodes(file string, port int, into map[string]bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	want := fmt.Sprintf(":%04X", port)
	for _, line := range bytes.Split(b, []byte("\n"))[1:] {
		f := strings.Fields(string(line))
		if len(f) > 9 && strings.HasSuffix(f[1], want) && f[3] == "0A" {
			into[f[9]] = true
		}
	}
}
