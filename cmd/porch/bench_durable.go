package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/loadgen"
)

// durableBaseline is the least a durable verifying receiver does per delivery,
// measured beside porch so that an operator sees how close porch comes to
// what their disk allows: read the body, verify it with porch's own
// provider code, read its dedup key, and store the dedup key, the raw
// body and an outbox entry in Badger with SyncWrites. Deliveries waiting
// at the same time share one transaction (one fsync); nothing lingers to
// fill a batch. It answers as porch does: 200 {"id","duplicate"}, 401.
type durableBaseline struct {
	db    *badger.DB
	srv   *http.Server
	ln    net.Listener
	queue chan *durableReq
	stop  chan struct{}
	done  chan struct{}
}

type durableReq struct {
	key, body []byte
	id        string
	dup       bool
	err       error
	done      chan struct{}
}

// maxDurableBatch bounds one transaction, well inside Badger's limits.
const maxDurableBatch = 256

// startDurable opens a Badger store in dir (which must be empty or absent)
// and serves POST /in/{source} for targets on 127.0.0.1 at a free port.
func startDurable(dir string, targets []*loadgen.Target) (*durableBaseline, error) {
	verifiers := make(map[string]gateway.Provider, len(targets))
	for _, t := range targets {
		def, ok := gateway.Lookup(t.Provider)
		if !ok {
			return nil, fmt.Errorf("durable baseline: unknown provider %q", t.Provider)
		}
		p, err := def.New(gateway.ProviderConfig{Secrets: []string{t.Secret}})
		if err != nil {
			return nil, fmt.Errorf("durable baseline: %s: %w", t.Source, err)
		}
		verifiers[t.Source] = p
	}
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		return nil, fmt.Errorf("durable baseline: open %s: %w", dir, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("durable baseline listen: %w", err)
	}
	d := &durableBaseline{db: db, ln: ln, queue: make(chan *durableReq, 4096), stop: make(chan struct{}), done: make(chan struct{})}
	d.srv = &http.Server{Handler: d.handler(verifiers), ReadHeaderTimeout: 5 * time.Second}
	go d.write()
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// URL is the receiver's base URL.
func (d *durableBaseline) URL() string { return "http://" + d.ln.Addr().String() }

// Close stops the server, then the writer, then the store.
func (d *durableBaseline) Close() error {
	err := d.srv.Close()
	close(d.stop)
	<-d.done
	if cerr := d.db.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *durableBaseline) handler(verifiers map[string]gateway.Provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := strings.TrimPrefix(r.URL.Path, "/in/")
		p, ok := verifiers[source]
		if r.Method != http.MethodPost || !ok {
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if _, err := p.Verify(r.Header, body, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		facts, err := p.Inspect(body)
		if err != nil || len(facts.DedupKeys) == 0 {
			http.Error(w, "unparseable", http.StatusBadRequest)
			return
		}
		req := &durableReq{key: []byte("d/" + source + "/" + facts.DedupKeys[0]), body: body, done: make(chan struct{})}
		select {
		case d.queue <- req:
		case <-r.Context().Done():
			return
		}
		<-req.done
		if req.err != nil {
			http.Error(w, "not durable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		}{req.id, req.dup})
	})
}

// write commits whatever is queued as one transaction, until Close.
func (d *durableBaseline) write() {
	defer close(d.done)
	var seq uint64
	for {
		var batch []*durableReq
		select {
		case req := <-d.queue:
			batch = append(batch, req)
		case <-d.stop:
			return
		}
	fill:
		for len(batch) < maxDurableBatch {
			select {
			case req := <-d.queue:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		err := d.db.Update(func(txn *badger.Txn) error {
			for _, req := range batch {
				if item, err := txn.Get(req.key); err == nil {
					v, err := item.ValueCopy(nil)
					req.id, req.dup = string(v), true
					if err != nil {
						return err
					}
					continue
				}
				seq++
				req.id = strconv.FormatUint(seq, 10)
				id := []byte(req.id)
				if err := txn.Set(req.key, id); err != nil {
					return err
				}
				if err := txn.Set(append([]byte("a/"), id...), req.body); err != nil {
					return err
				}
				if err := txn.Set(append([]byte("o/"), id...), id); err != nil {
					return err
				}
			}
			return nil
		})
		for _, req := range batch {
			req.err = err
			close(req.done)
		}
	}
}
