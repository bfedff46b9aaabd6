package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox/postgres"
	"github.com/porchgw/porch/loadgen"
)

// durableBaseline is the least a durable verifying receiver does per delivery,
// measured beside porch so that an operator sees how close porch comes to
// what their disk or database allows: read the body, verify it with
// porch's own provider code, read its dedup key, and store the dedup key,
// the raw body and an outbox entry durably through a durableStore.
// Deliveries waiting at the same time share one transaction (one
// commit); nothing lingers to fill a batch. It answers as porch does:
// 200 {"id","duplicate"}, 401.
type durableBaseline struct {
	store durableStore
	srv   *http.Server
	ln    net.Listener
	queue chan *durableReq
	stop  chan struct{}
	wg    sync.WaitGroup // the committers
}

type durableReq struct {
	key, body []byte
	id        string
	dup       bool
	err       error
	done      chan struct{}
}

// durableStore is where the durable baseline commits.
type durableStore interface {
	// name says which store it is, for the report: badger or postgres.
	name() string
	// committers is how many batches it commits at once.
	committers() int
	// commit stores the new deliveries of batch in one transaction and
	// sets each request's id and dup; a key repeated in the batch is a
	// duplicate of its first occurrence.
	commit(batch []*durableReq) error
	// close releases the store; the PostgreSQL one drops its schema
	// (the Badger one's directory is its caller's to remove).
	close() error
}

// maxDurableBatch bounds one transaction, well inside Badger's limits
// and as the PostgreSQL engine bounds its batches by default.
const maxDurableBatch = 256

// startDurable serves POST /in/{source} for targets on 127.0.0.1 at a
// free port, committing into store, which it closes when it closes.
func startDurable(store durableStore, targets []*loadgen.Target) (*durableBaseline, error) {
	verifiers := make(map[string]gateway.Provider, len(targets))
	for _, t := range targets {
		def, ok := gateway.Lookup(t.Provider)
		if !ok {
			store.close()
			return nil, fmt.Errorf("durable baseline: unknown provider %q", t.Provider)
		}
		p, err := def.New(gateway.ProviderConfig{Secrets: []string{t.Secret}})
		if err != nil {
			store.close()
			return nil, fmt.Errorf("durable baseline: %s: %w", t.Source, err)
		}
		verifiers[t.Source] = p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.close()
		return nil, fmt.Errorf("durable baseline listen: %w", err)
	}
	d := &durableBaseline{store: store, ln: ln, queue: make(chan *durableReq, 4096), stop: make(chan struct{})}
	d.srv = &http.Server{Handler: d.handler(verifiers), ReadHeaderTimeout: 5 * time.Second}
	for range store.committers() {
		d.wg.Go(d.write)
	}
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// URL is the receiver's base URL.
func (d *durableBaseline) URL() string { return "http://" + d.ln.Addr().String() }

// Close stops the server, then the committers, then the store.
func (d *durableBaseline) Close() error {
	err := d.srv.Close()
	close(d.stop)
	d.wg.Wait()
	if cerr := d.store.close(); err == nil {
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
		err := d.store.commit(batch)
		for _, req := range batch {
			req.err = err
			close(req.done)
		}
	}
}

// badgerDurable is the durable baseline's store for the embedded engine:
// a Badger store with SyncWrites, one committer (Badger serializes
// commits).
type badgerDurable struct {
	db  *badger.DB
	seq uint64
}

// openBadgerDurable opens a Badger store in dir, which must be empty or
// absent.
func openBadgerDurable(dir string) (*badgerDurable, error) {
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		return nil, fmt.Errorf("durable baseline: open %s: %w", dir, err)
	}
	return &badgerDurable{db: db}, nil
}

func (b *badgerDurable) name() string    { return backendBadger }
func (b *badgerDurable) committers() int { return 1 }
func (b *badgerDurable) close() error    { return b.db.Close() }

func (b *badgerDurable) commit(batch []*durableReq) error {
	return b.db.Update(func(txn *badger.Txn) error {
		for _, req := range batch {
			if item, err := txn.Get(req.key); err == nil {
				v, err := item.ValueCopy(nil)
				req.id, req.dup = string(v), true
				if err != nil {
					return err
				}
				continue
			}
			b.seq++
			req.id = strconv.FormatUint(b.seq, 10)
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
}

// postgresDurable is the durable baseline's store on PostgreSQL: tables
// in a temporary schema of the configured database (see
// postgres.Baseline), as many committers as a pool-backed receiver runs.
type postgresDurable struct{ b *postgres.Baseline }

func (p postgresDurable) name() string    { return backendPostgres }
func (p postgresDurable) committers() int { return postgres.BaselineCommitters }
func (p postgresDurable) close() error    { return p.b.Close() }

func (p postgresDurable) commit(batch []*durableReq) error {
	keys := make([]string, len(batch))
	bodies := make([][]byte, len(batch))
	for i, req := range batch {
		keys[i], bodies[i] = string(req.key), req.body
	}
	got, err := p.b.Store(context.Background(), keys, bodies)
	if err != nil {
		return err
	}
	for i, req := range batch {
		req.id, req.dup = strconv.FormatInt(got[i].ID, 10), got[i].Duplicate
	}
	return nil
}
