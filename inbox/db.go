package inbox

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
	"github.com/sirupsen/logrus"
)

// Options configures a DB. The zero value of every field but Dir has a
// sensible default.
type Options struct {
	// Dir is the data directory. Empty means an in-memory store (tests only:
	// nothing survives Close).
	Dir string
	// DedupWindow is how long a dedup key is remembered. Default 168h.
	DedupWindow time.Duration
	// MaxBodyBytes is the largest body Accept must store; it sizes the
	// value log. Default 1 MiB.
	MaxBodyBytes int
	// MaxBatch caps how many deliveries share one commit and fsync.
	// Default 256.
	MaxBatch int
	// RejectedLogSize bounds the log of rejected and control requests.
	// Default 10000.
	RejectedLogSize int
	// Logger receives the store's and Badger's logs. Nil discards them.
	Logger logrus.FieldLogger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.DedupWindow <= 0 {
		o.DedupWindow = 168 * time.Hour
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.RejectedLogSize <= 0 {
		o.RejectedLogSize = 10000
	}
	if o.Logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		o.Logger = l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// DB is porch's store. All methods are safe for concurrent use.
type DB struct {
	opt Options
	bdb *badger.DB
	log logrus.FieldLogger

	acceptCh chan *acceptReq // to the writer goroutine
	rejectCh chan *Rejection // to the rejection logger
	wake     chan struct{}   // 1-buffered: "the outbox has new entries"

	// Owned by the writer goroutine.
	head    chainHead
	entropy *ulid.MonotonicEntropy
	lastMs  uint64

	reserve       int64       // free bytes kept for Badger's own writes (space.go)
	degraded      atomic.Bool // the last fsync failed; Accept refuses until one succeeds
	rejectSeq     atomic.Uint64
	rejectDropped atomic.Uint64

	closeOnce sync.Once
	closing   chan struct{}
	wg        sync.WaitGroup
}

// chainHead is the newest event of the archive chain, persisted at
// keyHead in the same transaction as the event.
type chainHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	ID   string `json:"id"`
}

// Open opens (creating if needed) the store in opt.Dir and starts its
// writer, rejection logger and value-log GC goroutines. Close stops them.
func Open(opt Options) (*DB, error) {
	opt.setDefaults()
	bo := badgerOptions(opt)
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open inbox %s: %w", opt.Dir, err)
	}
	db := &DB{
		opt:      opt,
		bdb:      bdb,
		log:      opt.Logger.WithField("component", "inbox"),
		acceptCh: make(chan *acceptReq, 4*opt.MaxBatch),
		rejectCh: make(chan *Rejection, 1024),
		wake:     make(chan struct{}, 1),
		entropy:  ulid.Monotonic(rand.Reader, 0),
		closing:  make(chan struct{}),
		reserve:  spaceReserve(bo),
	}
	if err := db.load(); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open inbox %s: %w", opt.Dir, err)
	}
	db.wg.Add(3)
	go db.writeLoop()
	go db.rejectLoop()
	go db.gcLoop()
	return db, nil
}

// badgerOptions tunes Badger for a small edge box: small memtables (8 MiB:
// less memory, and a smaller free-space reserve, see space.go) and caches
// keep RSS modest, bodies above 1 KiB live in the value log, and
// writes are not synced one by one because the writer goroutine syncs once
// per group-committed batch.
func badgerOptions(opt Options) badger.Options {
	bo := badger.DefaultOptions(opt.Dir)
	if opt.Dir == "" {
		bo = badger.DefaultOptions("").WithInMemory(true)
	}
	vlog := int64(64 << 20)
	if need := int64(4 * opt.MaxBodyBytes); need > vlog {
		vlog = need
	}
	return bo.
		WithLogger(badgerLogger{opt.Logger.WithField("component", "badger")}).
		WithSyncWrites(false).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(2 << 20).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(8 << 20).
		WithValueThreshold(1 << 10).
		WithValueLogFileSize(vlog).
		WithNumCompactors(2).
		WithNumGoroutines(2)
}

// load reads the chain head and the rejection sequence.
func (db *DB) load() error {
	return db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(keyHead))
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			db.head = chainHead{Hash: GenesisHash}
		case err != nil:
			return err
		default:
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &db.head) }); err != nil {
				return fmt.Errorf("read chain head: %w", err)
			}
		}
		if id, err := ulid.Parse(db.head.ID); err == nil {
			db.lastMs = id.Time()
		}
		db.rejectSeq.Store(lastSeq(txn, pfxReject))
		return nil
	})
}

// lastSeq returns the highest big-endian sequence under prefix, or 0.
func lastSeq(txn *badger.Txn, prefix string) uint64 {
	it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(prefix)})
	defer it.Close()
	it.Seek(append([]byte(prefix), 0xff))
	if !it.Valid() {
		return 0
	}
	k := it.Item().Key()
	if len(k) != len(prefix)+8 {
		return 0
	}
	var n uint64
	for _, b := range k[len(prefix):] {
		n = n<<8 | uint64(b)
	}
	return n
}

// Ready reports whether the store can take deliveries now.
func (db *DB) Ready() error {
	select {
	case <-db.closing:
		return ErrClosed
	default:
	}
	if db.degraded.Load() {
		return fmt.Errorf("last sync failed: %w", ErrNotDurable)
	}
	return db.spaceFor(readyProbeBytes) // space.go
}

// Wake returns a channel that receives after new outbox entries are
// committed. It holds at most one pending signal; receivers rescan.
func (db *DB) Wake() <-chan struct{} { return db.wake }

func (db *DB) signalWake() {
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// Close stops intake, commits every delivery already queued, stops the
// background goroutines and closes Badger. It is safe to call twice.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.closing)
		db.wg.Wait()
		err = db.bdb.Close()
	})
	return err
}

// gcLoop reclaims value-log space every few minutes.
func (db *DB) gcLoop() {
	defer db.wg.Done()
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-db.closing:
			return
		case <-t.C:
			for db.bdb.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// Size reports the store's on-disk size: LSM tables and value log.
func (db *DB) Size() (lsm, vlog int64) { return db.bdb.Size() }

// badgerLogger adapts a FieldLogger to Badger's logger. Badger is chatty
// at info, so its info lines are demoted to debug.
type badgerLogger struct{ l logrus.FieldLogger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Errorf(f, a...) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warnf(f, a...) }
func (b badgerLogger) Infof(f string, a ...any)    { b.l.Debugf(f, a...) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.l.Debugf(f, a...) }
