package loadgen

import (
	"fmt"
	"io"
	"net"
	"net/http"
)

// Baseline is a bare net/http server that only reads the body and answers
// 200: the ceiling porch's ingest throughput is compared with.
type Baseline struct {
	srv *http.Server
	ln  net.Listener
}

// StartBaseline starts a Baseline on 127.0.0.1 at a free port.
func StartBaseline() (*Baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("baseline listen: %w", err)
	}
	b := &Baseline{ln: ln, srv: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})}}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// URL is the baseline's base URL.
func (b *Baseline) URL() string { return "http://" + b.ln.Addr().String() }

// Close stops the server.
func (b *Baseline) Close() error { return b.srv.Close() }
