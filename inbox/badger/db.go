package badger

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/oklog/ulid/v2"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/semaphore"
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
	// RejectedLogBytes bounds the same log's stored bytes; the oldest
	// entries go first. Default 16 MiB.
	RejectedLogBytes int64
	// Retention is how long archived events are kept; 0 keeps them
	// forever. See Prune.
	Retention time.Duration
	// RetentionInterval is how often retention runs. Default 10m.
	RetentionInterval time.Duration
	// TrailLogSize bounds the sensitive class of the access trail (event
	// views, raw reads, downloads, exports, dead letters, replays,
	// backups; see TrailClass). Default 1000000.
	TrailLogSize int
	// TrailSearchSize bounds the search class of the access trail
	// (searches, chain checks), so searches push out only older searches.
	// Default 100000.
	TrailSearchSize int
	// MinFreeBytes is the free space the data directory must keep: below
	// it Accept refuses deliveries (ErrNotDurable, so the gateway answers
	// 503) instead of letting the disk fill up, and takes them again once
	// space returns. Default 64 MiB; negative turns the guard off.
	MinFreeBytes int64
	// MustExist makes Open fail with ErrNoStore when Dir holds no store,
	// instead of creating one there (for reading a store that should be
	// there, such as a backup of a stopped porch's data directory).
	MustExist bool
	// Logger receives the store's and Badger's logs. Nil discards them.
	Logger logrus.FieldLogger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultOptions returns the value a zero option takes: Open fills zero
// options from it, and a config file loader starts from it.
func DefaultOptions() Options {
	return Options{
		DedupWindow:       inbox.DefaultDedupWindow,
		MaxBodyBytes:      1 << 20,
		MaxBatch:          256,
		RejectedLogSize:   10000,
		RejectedLogBytes:  16 << 20,
		RetentionInterval: 10 * time.Minute,
		TrailLogSize:      1000000,
		TrailSearchSize:   100000,
		MinFreeBytes:      64 << 20,
	}
}

func (o *Options) setDefaults() {
	def := DefaultOptions()
	if o.DedupWindow <= 0 {
		o.DedupWindow = def.DedupWindow
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = def.MaxBodyBytes
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = def.MaxBatch
	}
	if o.RejectedLogSize <= 0 {
		o.RejectedLogSize = def.RejectedLogSize
	}
	if o.RejectedLogBytes <= 0 {
		o.RejectedLogBytes = def.RejectedLogBytes
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = def.RetentionInterval
	}
	if o.TrailLogSize <= 0 {
		o.TrailLogSize = def.TrailLogSize
	}
	if o.TrailSearchSize <= 0 {
		o.TrailSearchSize = def.TrailSearchSize
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = def.MinFreeBytes
	}
	if o.Logger == nil {
		o.Logger = discardLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// discardLogger is the logger of a nil Logger option.
func discardLogger() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// DB is porch's store. All methods are safe for concurrent use.
type DB struct {
	opt Options
	bdb *badger.DB
	log logrus.FieldLogger

	acceptCh chan *acceptReq // to the writer goroutine
	// queued bounds the body bytes waiting in acceptCh and in the batch
	// being written, queuedMax bytes in all (accept.go).
	queued    *semaphore.Weighted
	queuedMax int64
	rejectCh  chan *inbox.Rejection // to the rejection logger
	wake      chan struct{}         // 1-buffered: "the outbox has new entries"

	// Owned by the writer goroutine.
	linger  time.Duration // how long a batch waits to fill after a busy one (writeLoop)
	head    chainHead
	entropy *ulid.MonotonicEntropy
	lastMs  uint64

	// failed holds the first commit error. A failed fsync may have
	// dropped written pages while marking them clean, so no later
	// success can vouch for them: the store refuses deliveries until it
	// is reopened and Badger replays what really is on disk.
	failed    atomic.Pointer[error]
	lowDisk   atomic.Bool // free space is under MinFreeBytes
	rejectSeq atomic.Uint64
	trail     trailLog

	closeOnce sync.Once
	closing   chan struct{}
	stopped   chan struct{} // closed when the writer has returned

	floor  outboxFloor  // where Claim starts reading the outbox (floor.go)
	claims claims       // outbox entries handed out and not yet settled (claim.go)
	recent recentEvents // events just accepted, for the forwarder (recent.go)
	dedup  *dedupFilter // every stored dedup key, approximately (dedupfilter.go); the writer's alone after Open
	// textKeysUntil is until when dedup keys an older store wrote as text
	// may be live (zero: none at Open); looked up in that form until then.
	textKeysUntil time.Time

	// beforeCommit, when set (tests), runs in the accept writer just
	// before each batch commits.
	beforeCommit func()

	settleCh      chan *settleReq // to the settle writer
	settleStopped chan struct{}   // closed when the settle writer has returned
	wg            sync.WaitGroup
}

// chainHead is the newest event of the archive chain, persisted at
// keyHead in the same transaction as the event.
type chainHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	ID   string `json:"id"`
}

// queuedBytes bounds the bodies queued for the writer: 64 MiB, or four
// of the largest bodies when that is more.
func queuedBytes(opt Options) int64 {
	return max(64<<20, 4*int64(opt.MaxBodyBytes))
}

// Open opens (creating if needed) the store in opt.Dir and starts its
// writer, rejection logger, value-log GC and (with Options.Retention)
// retention goroutines. Close stops them.
func Open(opt Options) (*DB, error) {
	opt.setDefaults()
	if opt.MustExist && !hasStore(opt.Dir) {
		return nil, fmt.Errorf("open inbox %s: %w", opt.Dir, ErrNoStore)
	}
	bdb, err := badger.Open(badgerOptions(opt))
	if err != nil {
		return nil, fmt.Errorf("open inbox %s: %w", opt.Dir, err)
	}
	db := &DB{
		opt:       opt,
		bdb:       bdb,
		log:       opt.Logger.WithField("component", "inbox"),
		acceptCh:  make(chan *acceptReq, 4*opt.MaxBatch),
		linger:    acceptLinger,
		queued:    semaphore.NewWeighted(queuedBytes(opt)),
		queuedMax: queuedBytes(opt),
		rejectCh:  make(chan *inbox.Rejection, 1024),
		wake:      make(chan struct{}, 1),
		claims:    claims{m: map[string]claim{}},
		entropy:   ulid.Monotonic(rand.Reader, 0),
		closing:   make(chan struct{}),
		stopped:   make(chan struct{}),

		settleCh:      make(chan *settleReq, maxSettleBatch),
		settleStopped: make(chan struct{}),
	}
	if err := db.load(); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open inbox %s: %w", opt.Dir, err)
	}
	if err := db.backfillFoldIndex(); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open inbox %s: index interview ids by prefix: %w", opt.Dir, err)
	}
	if db.dedup, db.textKeysUntil, err = loadDedupFilter(bdb, opt.DedupWindow); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open inbox %s: read dedup keys: %w", opt.Dir, err)
	}
	db.wg.Add(4)
	go db.writeLoop()
	go db.settleLoop()
	go db.rejectLoop()
	go db.gcLoop()
	if opt.Retention > 0 {
		db.wg.Add(1)
		go db.retentionLoop()
	}
	return db, nil
}

// ErrNoStore means Open with MustExist found no store in the directory.
var ErrNoStore = errors.New("no porch store in the directory")

// hasStore reports whether dir holds a Badger store: Badger writes its
// MANIFEST when it creates one and keeps it for the store's life.
func hasStore(dir string) bool {
	if dir == "" {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, badger.ManifestFilename))
	return err == nil && fi.Mode().IsRegular()
}

// valueThreshold is the size from which a value goes to the value log. It
// keeps outbox entries and delivery states, which the forwarder scans and
// rewrites, in the tree (TestSmallRecordsStayInTheTree).
const valueThreshold = 384

// badgerOptions tunes Badger for a small edge box. Values over
// valueThreshold (bodies, event records) go to the value log, written once,
// so flushes and compactions rewrite only keys and small records; small
// uncompressed tables (4 MiB memtables, 1 MiB base tables) keep Badger's
// table builders, the largest part of its heap, small enough for the
// memory limit. SyncWrites makes each commit, one per batch, fsync before
// it is visible. A transaction then holds at most about 6,500 entries: the
// accept writer and retention split bigger batches.
func badgerOptions(opt Options) badger.Options {
	bo := badger.DefaultOptions(opt.Dir).WithValueThreshold(valueThreshold).WithMemTableSize(4 << 20)
	if opt.Dir == "" {
		// In memory there is no value log: every value stays in the tree,
		// so a transaction (15 % of a memtable) must hold a whole body.
		bo = badger.DefaultOptions("").WithInMemory(true).WithValueThreshold(1 << 20).WithMemTableSize(8 << 20)
	}
	vlog := int64(64 << 20)
	if need := int64(4 * opt.MaxBodyBytes); need > vlog {
		vlog = need
	}
	return bo.
		WithLogger(badgerLogger{opt.Logger.WithField("component", "badger")}).
		WithSyncWrites(true).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBaseTableSize(1 << 20).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(8 << 20).
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
			db.head = chainHead{Hash: inbox.GenesisHash}
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
		return inbox.ErrClosed
	default:
	}
	if p := db.failed.Load(); p != nil {
		return fmt.Errorf("store failed, restart porch: %w: %w", inbox.ErrNotDurable, *p)
	}
	if db.lowDisk.Load() {
		return fmt.Errorf("data directory nearly full: %w", inbox.ErrNotDurable)
	}
	return nil
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
	db.every(5*time.Minute, func() bool {
		for db.bdb.RunValueLogGC(0.5) == nil {
		}
		return true
	})
}

// every runs fn every d until Close, or until fn reports false.
func (db *DB) every(d time.Duration, fn func() (again bool)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-db.closing:
			return
		case <-t.C:
			if !fn() {
				return
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
