package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// An export reads at most exportChunk events, or about exportChunkBytes
// of bodies, per query, so a long export holds little in memory.
const (
	exportChunk      = 256
	exportChunkBytes = 4 << 20
)

// filter is a query's WHERE clause, built condition by condition.
type filter struct {
	conds []string
	args  []any
	// fold is the folded interview prefix that every row must also pass:
	// the index holds only the first 512 bytes of an id, and rows written
	// before it existed hold none.
	fold string
}

// add appends cond, in which "?" stands for v.
// add adds a condition whose placeholders ? take vs in order; a
// condition with one value may use it at several placeholders.
func (f *filter) add(cond string, vs ...any) {
	for i, v := range vs {
		f.args = append(f.args, v)
		n := 1
		if i == len(vs)-1 {
			n = -1
		}
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(f.args)), n)
	}
	f.conds = append(f.conds, cond)
}

func (f *filter) where() string {
	if len(f.conds) == 0 {
		return "true"
	}
	return strings.Join(f.conds, " AND ")
}

// match applies what SQL could not.
func (f *filter) match(e *inbox.Event) bool {
	return f.fold == "" || strings.HasPrefix(inbox.FoldCase(e.InterviewID), f.fold)
}

// asStored is s as a text column stores it, written or queried: invalid
// UTF-8 replaced as the archive's JSON stores it, then NUL replaced.
func asStored(s string) string { return noNUL(inbox.AsStored(s)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// likePrefix is a LIKE pattern matching the strings that begin with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
}

// newFilter is q's filters as the Badger engine applies them (see
// inbox.Query), but its cursor and limit.
func newFilter(q inbox.Query) *filter {
	f := &filter{}
	for _, c := range []struct{ col, v string }{
		{"source", q.Source}, {"interview_id", q.InterviewID}, {"status", string(q.Status)},
	} {
		if c.v != "" {
			f.add(c.col+" = ?", asStored(c.v))
		}
	}
	if typ := asStored(q.Type); typ != "" {
		// A type longer than maxIndexedType is stored hashed, and whole
		// in type_full (see indexedType); either form lets
		// events_source_type serve the search. A row written before
		// migration 0007 holds any type whole, with type_full NULL.
		if ix, full := indexedType(typ); full == "" {
			f.add("type = ? AND type_full IS NULL", typ)
		} else {
			f.add("(type = ? AND type_full IS NULL OR type = ? AND type_full = ?)", typ, ix, full)
		}
	}
	if id := asStored(q.InterviewID); id != "" && isASCII(id) {
		// Implied by the filter above, and it lets the fold index serve
		// it. Only for ASCII: its folding is the same in every Unicode
		// version, so a row folded by another build still matches.
		f.add("interview_id <> '' AND (interview_fold = ? OR interview_fold IS NULL)", inbox.FoldInterview(id))
	}
	if q.InterviewPrefix != "" {
		p := asStored(q.InterviewPrefix)
		f.fold = inbox.FoldCase(p)
		f.add("interview_id <> '' AND (interview_fold LIKE ? OR interview_fold IS NULL)", likePrefix(inbox.FoldInterview(p)))
	}
	if q.DuplicateOf != "" {
		// Every copy has status duplicate, which events_status indexes,
		// and comes after the event it duplicates.
		f.add("duplicate_of = ? AND id > ?", asStored(q.DuplicateOf), asStored(q.DuplicateOf))
		if q.Status == "" {
			f.add("status = ?", string(inbox.StatusDuplicate))
		}
	}
	if q.IDPrefix != "" {
		// Ids are ULIDs, which are case-insensitive and stored upper case.
		f.add("id LIKE ?", likePrefix(strings.ToUpper(asStored(q.IDPrefix))))
	}
	if !q.Since.IsZero() {
		f.add("id >= ?", inbox.IDAt(q.Since))
	}
	if !q.Until.IsZero() {
		f.add("id < ?", inbox.IDAt(q.Until))
	}
	return f
}

// List answers q newest first, a page at a time, with every filter of
// inbox.Query. Ids are chain order, so newest first is by id.
func (db *DB) List(q inbox.Query) (inbox.Page, error) {
	if q.Limit <= 0 {
		q.Limit = inbox.DefaultListLimit
	}
	q.Limit = min(q.Limit, inbox.MaxListLimit)
	if q.Cursor != "" && inbox.IDTime(q.Cursor).IsZero() {
		return inbox.Page{}, fmt.Errorf("list events: %w: %q", inbox.ErrBadCursor, q.Cursor)
	}
	ctx, cancel := readCtx()
	defer cancel()
	page := inbox.Page{Events: []inbox.Event{}}
	before := q.Cursor
	for {
		f := newFilter(q)
		if before != "" {
			f.add("id < ?", before)
		}
		f.args = append(f.args, q.Limit+1)
		rows, _ := db.pool.Query(ctx, `SELECT `+eventCols+` FROM events WHERE `+f.where()+
			` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(f.args)), f.args...)
		evs, err := pgx.CollectRows(rows, scanEvent)
		if err != nil {
			return inbox.Page{}, fmt.Errorf("list events: %w", err)
		}
		for i := range evs {
			before = evs[i].ID
			if !f.match(&evs[i]) {
				continue
			}
			if len(page.Events) == q.Limit {
				page.NextCursor = page.Events[len(page.Events)-1].ID
				return page, nil
			}
			page.Events = append(page.Events, evs[i])
		}
		if len(evs) <= q.Limit {
			return page, nil
		}
	}
}

// Export calls fn for every archived event in [since, until) (zero means
// unbounded), oldest first, which is chain order, with its body: the
// records inbox.VerifyExport checks.
func (db *DB) Export(ctx context.Context, since, until time.Time, fn func(inbox.Record) error) error {
	return db.ExportMatching(ctx, inbox.Query{Since: since, Until: until}, fn)
}

// ExportMatching is Export of the events that match q's filters (its
// Limit and Cursor are ignored), in chain order. Unless q filters by
// time alone the records are not a contiguous part of the chain.
func (db *DB) ExportMatching(ctx context.Context, q inbox.Query, fn func(inbox.Record) error) error {
	return db.walk(ctx, newFilter(q), 0, func(r inbox.Record) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return fn(r)
	})
}

// walk calls fn for each event after seq that passes f, in seq order,
// with its body, reading a chunk at a time.
func (db *DB) walk(ctx context.Context, f *filter, after int64, fn func(inbox.Record) error) error {
	for {
		recs, err := db.chunk(ctx, f, after)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, r := range recs {
			after = int64(r.Seq)
			if !f.match(r.Event) {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) == 0 {
			return nil
		}
	}
}

// chunk reads the events after seq that pass f's SQL conditions, in seq
// order: up to exportChunk of them, fewer when their bodies pass
// exportChunkBytes (but at least one).
func (db *DB) chunk(ctx context.Context, f *filter, after int64) ([]inbox.Record, error) {
	args := append(append([]any{}, f.args...), after, exportChunk, exportChunkBytes)
	n := len(f.args)
	sql := fmt.Sprintf(`SELECT %s, body FROM (
  SELECT *, sum(body_size) OVER (ORDER BY seq) AS run FROM events
  WHERE %s AND seq > $%d ORDER BY seq LIMIT $%d) AS c
WHERE run - body_size < $%d ORDER BY seq`, eventCols, f.where(), n+1, n+2, n+3)
	rows, _ := db.pool.Query(ctx, sql, args...)
	return pgx.CollectRows(rows, scanRecord)
}
