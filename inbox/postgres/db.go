package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/porchgw/porch/inbox"
	"github.com/sirupsen/logrus"
)

// Options configures a DB.
type Options struct {
	// DedupWindow is how long a dedup key is remembered. Default 168h.
	DedupWindow time.Duration
	// MaxBatch caps how many deliveries share one transaction and one
	// COMMIT. Default 256.
	MaxBatch int
	// MaxConns caps the pool's connections. Default: pgxpool's default.
	MaxConns int32
	// RejectedLogSize bounds the log of rejected and control requests.
	// Default 10000.
	RejectedLogSize int
	// RejectedLogBytes bounds the same log's stored bytes; the oldest
	// entries go first. Default 16 MiB.
	RejectedLogBytes int64
	// TrailLogSize bounds the sensitive class of the access trail (see
	// inbox.TrailClass). Default 1000000.
	TrailLogSize int
	// TrailSearchSize bounds the search class of the access trail, so
	// searches push out only older searches. Default 100000.
	TrailSearchSize int
	// Retention is how long archived events are kept; 0 keeps them
	// forever. One node at a time prunes (Lead "retention"); see Prune.
	Retention time.Duration
	// RetentionInterval is how often retention runs. Default 10m.
	RetentionInterval time.Duration
	// Logger receives the engine's logs. Nil discards them.
	Logger logrus.FieldLogger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.DedupWindow <= 0 {
		o.DedupWindow = inbox.DefaultDedupWindow
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.RejectedLogSize <= 0 {
		o.RejectedLogSize = 10000
	}
	if o.RejectedLogBytes <= 0 {
		o.RejectedLogBytes = 16 << 20
	}
	if o.TrailLogSize <= 0 {
		o.TrailLogSize = 1000000
	}
	if o.TrailSearchSize <= 0 {
		o.TrailSearchSize = 100000
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = 10 * time.Minute
	}
	if o.Logger == nil {
		l := logrus.New()
		l.SetOutput(nopWriter{})
		o.Logger = l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// DB is one node's handle on a porch database. Open it with Open; Close
// it when done.
type DB struct {
	opt  Options
	pool *pgxpool.Pool
	log  logrus.FieldLogger

	// node names this node in the leases it takes; scope is the schema
	// the engine's tables are in, which its notification channel and
	// advisory lock keys are derived from, so that deployments sharing
	// a database in different schemas never meet.
	node, scope, channel string
	wake                 chan struct{} // 1-buffered: "the outbox has entries due"
	leadEvery            time.Duration // how often Lead tries for a lock, and checks it holds
	leadIdle             time.Duration // how long a lock's session may be silent before the server ends it

	acceptCh  chan *acceptReq
	last      *chainHead    // the head this node's last batch committed; the writer's own
	fastAfter time.Time     // the writer takes the locked path until then
	recent    *recentKeys   // the keys this node claimed lately: see tryFast
	fastDone  atomic.Int64  // batches committed by tryFast
	failing   bool          // the last batch failed (the writer's own): logged once, until one commits
	closing   chan struct{} // closed when Close begins
	stopped   chan struct{} // closed when the writer has returned
	closeOnce sync.Once

	rejectCh      chan *inbox.Rejection // to the rejection writer
	rejectStopped chan struct{}         // closed when the rejection writer has returned
	rejectDropped atomic.Uint64

	trailSearch, trailKept trailClass

	ctx    context.Context // ends when Close begins: the background loops' context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the background loops and Lead calls
}

// Open connects to the database at url (a libpq URL or key=value
// string), applies any pending schema migrations and starts the
// group-commit writer, the listener that feeds Wake and, with
// Options.Retention, the retention loop.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	opt.setDefaults()
	pool, err := newPool(ctx, url, opt.MaxConns)
	if err != nil {
		return nil, err
	}
	from, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", MaskURL(url), maskErr(err, url))
	}
	if latest := SchemaVersion(); from != latest {
		opt.Logger.WithFields(logrus.Fields{"from": from, "to": latest}).Info("database schema migrated")
	}
	var scope string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&scope); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", MaskURL(url), maskErr(err, url))
	}
	db := &DB{
		opt:       opt,
		pool:      pool,
		log:       opt.Logger.WithField("component", "inbox"),
		node:      nodeID(),
		scope:     scope,
		channel:   channelName(scope),
		wake:      make(chan struct{}, 1),
		leadEvery: defaultLeadEvery,
		leadIdle:  defaultLeadIdle,
		acceptCh:  make(chan *acceptReq, 4*opt.MaxBatch),
		recent:    newRecentKeys(),
		closing:   make(chan struct{}),
		stopped:   make(chan struct{}),

		rejectCh:      make(chan *inbox.Rejection, 1024),
		rejectStopped: make(chan struct{}),
	}
	if err := backfillFold(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", MaskURL(url), maskErr(err, url))
	}
	db.ctx, db.cancel = context.WithCancel(context.Background())
	go db.writeLoop()
	go db.rejectLoop()
	db.wg.Add(1)
	go db.listen()
	if opt.Retention > 0 {
		db.wg.Add(1)
		go db.retentionLoop()
	}
	return db, nil
}

// newPool connects a pool and checks the database answers.
func newPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url %s: %w", MaskURL(url), maskErr(err, url))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "porch" // names its sessions in pg_stat_activity
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Names texts' type for the modes that send parameters without
		// asking the server for their types (exec, simple_protocol).
		c.TypeMap().RegisterDefaultPgType(texts(nil), "_text")
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", MaskURL(url), maskErr(err, url))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect %s: %w", MaskURL(url), maskErr(err, url))
	}
	return pool, nil
}

// readyTimeout bounds Ready's round trip to the database.
const readyTimeout = 2 * time.Second

// Ready reports whether the database answers, within readyTimeout.
func (db *DB) Ready() error {
	select {
	case <-db.closing:
		return inbox.ErrClosed
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w: %w", inbox.ErrNotDurable, err)
	}
	return nil
}

// Close stops taking deliveries, commits those already queued and the
// queued rejection log entries, ends the background loops and every Lead
// (giving up leadership), and closes the pool.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		<-db.stopped
		<-db.rejectStopped
		db.cancel()
		db.wg.Wait()
		db.pool.Close()
	})
	return nil
}

// nodeID names this node in leases: host, process and a random part, so
// two opens in one process are two nodes.
func nodeID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// ParseURL checks that url is a connection string the engine can use,
// without connecting. Its error never shows the password.
func ParseURL(url string) error {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return maskErr(err, url)
	}
	return nil
}

// backfillFold fills in the folded interview ids (interview_fold) of
// events written before the column existed, a chunk at a time. Nodes
// doing it at once write the same values.
func backfillFold(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		var seqs []int64
		var folds []string
		rows, _ := pool.Query(ctx, `SELECT seq, interview_id FROM events
WHERE interview_fold IS NULL AND interview_id <> '' LIMIT 1000`)
		for rows.Next() {
			var seq int64
			var iv string
			if err := rows.Scan(&seq, &iv); err != nil {
				rows.Close()
				return fmt.Errorf("fold interview ids: %w", err)
			}
			seqs, folds = append(seqs, seq), append(folds, inbox.FoldInterview(iv))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("fold interview ids: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		_, err := pool.Exec(ctx, `UPDATE events AS e SET interview_fold = u.fold
FROM unnest($1::bigint[], $2::text[]) AS u (seq, fold) WHERE e.seq = u.seq`, seqs, folds)
		if err != nil {
			return fmt.Errorf("fold interview ids: %w", err)
		}
	}
}
