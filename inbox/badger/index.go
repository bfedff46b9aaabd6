package badger

import (
	"bytes"
	"errors"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/porchgw/porch/inbox"
)

// idStream yields event ids from one index prefix, newest first, within
// [lo, hi): lo and hi are ids ("" = unbounded).
type idStream struct {
	it     *badger.Iterator
	prefix []byte
	lo     string
	cur    string
	ok     bool
	// visited counts the keys the stream read, its own or not: what a
	// search costs.
	visited int
}

func newIDStream(txn *badger.Txn, prefix, lo, hi string) *idStream {
	it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte(prefix)})
	s := &idStream{it: it, prefix: []byte(prefix), lo: lo}
	seek := append([]byte(prefix), 0xff)
	if hi != "" {
		seek = []byte(prefix + hi)
	}
	it.Seek(seek)
	if hi != "" && it.Valid() && bytes.Equal(it.Item().Key(), seek) {
		it.Next() // hi is exclusive
	}
	s.load()
	return s
}

// load reads the id under the iterator, ending the stream below lo.
func (s *idStream) load() {
	s.ok = false
	for ; s.it.Valid(); s.it.Next() {
		s.visited++
		rest := string(s.it.Item().Key()[len(s.prefix):])
		if strings.Contains(rest, "/") {
			continue // a longer source or value sharing the prefix: not ours
		}
		if rest < s.lo {
			return
		}
		s.cur, s.ok = rest, true
		return
	}
}

func (s *idStream) next() {
	s.it.Next()
	s.load()
}

func (s *idStream) close() { s.it.Close() }

// mergedIDs merges several newest-first streams into one.
type mergedIDs []*idStream

// pop returns the newest id among the streams, or false when all are done.
func (m mergedIDs) pop() (string, bool) {
	var best *idStream
	for _, s := range m {
		if s.ok && (best == nil || s.cur > best.cur) {
			best = s
		}
	}
	if best == nil {
		return "", false
	}
	id := best.cur
	best.next()
	return id, true
}

// visited is the number of keys the streams read.
func (m mergedIDs) visited() int {
	n := 0
	for _, s := range m {
		n += s.visited
	}
	return n
}

func (m mergedIDs) close() {
	for _, s := range m {
		s.close()
	}
}

// indexParts lists the distinct key components that follow prefix (the
// sources under "xi/", the types under "xt/<source>/"), in key form, by
// skipping from one to the next: a few seeks, not a scan.
func indexParts(txn *badger.Txn, prefix string) []string {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); {
		rest := string(it.Item().Key()[len(prefix):])
		part, _, ok := strings.Cut(rest, "/")
		if !ok {
			it.Next()
			continue
		}
		out = append(out, part)
		it.Seek([]byte(prefix + part + "0")) // '0' follows '/'
	}
	return out
}

// maxTypeStreams bounds the per-type streams a search by source merges;
// a source with more distinct types is searched by walking the archive.
const maxTypeStreams = 64

// plan picks the most selective index for q and opens its streams within
// the id range [lo, hi). Query values become key components as the
// index wrote them (keyPart); components read back from the index
// (indexParts) are already in that form.
func plan(txn *badger.Txn, q *inbox.Query, lo, hi string) mergedIDs {
	var prefixes []string
	var folded []string
	if q.InterviewID == "" && q.InterviewPrefix != "" {
		folded = foldPrefixes(txn, q.InterviewPrefix)
	}
	switch {
	case q.InterviewID != "":
		// The folded index lists the interview's events with those of any
		// id that folds the same (rare); match keeps the exact ones.
		prefixes = []string{pfxIdxFold + foldPart(q.InterviewID) + "/"}
	case folded != nil:
		prefixes = folded
	case q.Type != "":
		prefixes = valuePrefixes(txn, pfxIdxType, q.Source, q.Type)
	case q.Source != "":
		prefixes = sourcePrefixes(txn, q.Source)
	case q.Status != "" && q.Status != inbox.StatusAccepted:
		prefixes = []string{indexPrefix(pfxIdxStatus, string(q.Status))}
	default:
		prefixes = []string{pfxEvent}
	}
	m := make(mergedIDs, 0, len(prefixes))
	for _, p := range prefixes {
		m = append(m, newIDStream(txn, p, lo, hi))
	}
	return m
}

// maxFoldStreams bounds the interviews a search by interview prefix
// merges; a prefix shared by more interviews is searched through the
// next most selective index (or the archive) and filtered, since such a
// prefix matches too much of the archive for the index to save much.
const maxFoldStreams = 64

// foldPrefixes lists the prefixes of the folded interview index under
// which the interviews whose id starts with prefix, in any case, list
// their events, finding each by skipping from one to the next. It
// returns nil when there are more than maxFoldStreams of them, and an
// empty list when there are none.
func foldPrefixes(txn *badger.Txn, prefix string) []string {
	start := pfxIdxFold + foldPart(prefix)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(start)})
	defer it.Close()
	out := []string{}
	for it.Rewind(); it.Valid(); {
		rest := string(it.Item().Key()[len(pfxIdxFold):])
		part, _, ok := strings.Cut(rest, "/")
		if !ok {
			it.Next()
			continue
		}
		if len(out) == maxFoldStreams {
			return nil
		}
		out = append(out, pfxIdxFold+part+"/")
		it.Seek([]byte(pfxIdxFold + part + "0")) // '0' follows '/'
	}
	return out
}

// sourcePrefixes serves a search by source alone from the type index,
// whose keys begin with the source: one stream per type of the source,
// merged. It needs no index of its own, so accepting costs nothing more
// and stores written before it are searched the same way.
func sourcePrefixes(txn *badger.Txn, source string) []string {
	p := indexPrefix(pfxIdxType, source)
	types := indexParts(txn, p)
	if len(types) > maxTypeStreams {
		return []string{pfxEvent}
	}
	out := make([]string, len(types))
	for i, typ := range types {
		out[i] = p + typ + "/"
	}
	return out
}

// valuePrefixes lists the prefixes of the index pfx (pfxIdxIntv or
// pfxIdxType) that hold value, for source or for every source; for a
// long value, also the form stores held it in before parts were bounded.
func valuePrefixes(txn *badger.Txn, pfx, source, value string) []string {
	var out []string
	for _, src := range sourcesFor(txn, pfx, source) {
		out = append(out, pfx+src+"/"+keyPart(value)+"/")
		if len(value) > inbox.MaxKeyPart {
			if p, ok := legacyIndexPrefix(pfx+src+"/", value); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

func sourcesFor(txn *badger.Txn, prefix, source string) []string {
	if source != "" {
		return []string{keyPart(source)}
	}
	return indexParts(txn, prefix)
}

// keyFoldIndex marks a store whose every event is in the folded interview
// index: events accepted since the index exists are indexed on accept,
// and backfillFoldIndex adds those accepted before, once.
const keyFoldIndex = "m/foldindex"

// backfillFoldIndex adds the folded interview index entries of every
// archived event, unless the store is marked as having them. It runs in
// Open before anything else writes, reads the archive once (in chunks,
// so no snapshot is held long), and marks the store when done; an
// interrupted run starts over, and writing an entry twice is harmless.
func (db *DB) backfillFoldIndex() error {
	err := db.bdb.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(keyFoldIndex))
		return err
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	lo, n := "", 0
	for {
		var last string
		err := db.bdb.View(func(txn *badger.Txn) error {
			seen := 0
			return walkEvents(txn, lo, "", nil, func(e *inbox.Event, _ []byte) (bool, error) {
				last = e.ID
				seen++
				if e.InterviewID != "" {
					n++
					if err := wb.Set([]byte(pfxIdxFold+foldPart(e.InterviewID)+"/"+e.ID), nil); err != nil {
						return false, err
					}
				}
				return seen < exportChunk*16, nil
			})
		})
		if err != nil {
			return err
		}
		if last == "" {
			break
		}
		lo = last + "\x00"
	}
	if err := wb.Set([]byte(keyFoldIndex), nil); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	if n > 0 {
		db.log.WithField("events", n).Info("indexed interview ids for prefix search")
	}
	return nil
}
