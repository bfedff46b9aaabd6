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
	"sync"
	"time"
)

// RSS is a process's resident memory, in bytes, from /proc/PID/status.
type RSS struct {
	Total int64 `json:"rss_bytes"`      // VmRSS
	Anon  int64 `json:"rss_anon_bytes"` // RssAnon: heap, stacks, Badger's arenas
	File  int64 `json:"rss_file_bytes"` // RssFile: mapped file pages (Badger's mmapped logs and tables)
}

// ReadRSS reads the resident memory of process pid (Linux only).
func ReadRSS(pid int) (RSS, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return RSS{}, fmt.Errorf("read rss: %w", err)
	}
	defer f.Close()
	var r RSS
	fields := map[string]*int64{"VmRSS:": &r.Total, "RssAnon:": &r.Anon, "RssFile:": &r.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if p, ok := fields[f[0]]; ok && len(f) >= 2 {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return RSS{}, fmt.Errorf("parse %s %q: %w", f[0], f[1], err)
			}
			*p = kb << 10
		}
	}
	if r.Total == 0 {
		return RSS{}, fmt.Errorf("read rss: no VmRSS for pid %d", pid)
	}
	return r, nil
}

// RSSSampler records the peak resident memory of a process.
type RSSSampler struct {
	mu   sync.Mutex
	peak RSS // the sample with the highest Total
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
			if r, err := ReadRSS(pid); err == nil {
				s.mu.Lock()
				if r.Total > s.peak.Total {
					s.peak = r
				}
				s.mu.Unlock()
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
// the sample with the highest total RSS.
func (s *RSSSampler) Peak() RSS {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
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

// ReadCPU returns the CPU time (user + system) process pid has used, from
// /proc/PID/stat, assuming the usual 100 clock ticks per second.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu: %w", err)
	}
	// Fields after the command name (which may hold spaces) start at ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read cpu: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu: bad utime/stime in /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
