package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/porchgw/porch/inbox"
)

// PutEnrichment stores r under r.EventID, replacing any earlier record;
// it is committed when PutEnrichment returns.
func (db *DB) PutEnrichment(r inbox.Enrichment) error {
	if r.EventID == "" {
		return errors.New("put enrichment: empty event id")
	}
	if !storable(r.EventID) {
		return fmt.Errorf("put enrichment %s: event id is not storable text", r.EventID)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put enrichment %s: %w", r.EventID, err)
	}
	ctx, cancel := readCtx()
	defer cancel()
	_, err = db.pool.Exec(ctx, `INSERT INTO enrichments (event_id, record) VALUES ($1, $2)
ON CONFLICT (event_id) DO UPDATE SET record = excluded.record`, r.EventID, b)
	if err != nil {
		return fmt.Errorf("put enrichment %s: %w", r.EventID, err)
	}
	return nil
}

// Enrichment returns the enrichment record of event id, or an error
// wrapping inbox.ErrNotFound when there is none.
func (db *DB) Enrichment(id string) (inbox.Enrichment, error) {
	if !storable(id) {
		return inbox.Enrichment{}, fmt.Errorf("enrichment %s: %w", id, inbox.ErrNotFound)
	}
	ctx, cancel := readCtx()
	defer cancel()
	var b []byte
	err := db.pool.QueryRow(ctx, `SELECT record FROM enrichments WHERE event_id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		err = inbox.ErrNotFound
	}
	var r inbox.Enrichment
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		return inbox.Enrichment{}, fmt.Errorf("enrichment %s: %w", id, err)
	}
	return r, nil
}

// ReconcileMark returns the reconciliation high-water mark of source,
// the zero time before the first run.
func (db *DB) ReconcileMark(source string) (time.Time, error) {
	var t time.Time
	if !storable(source) {
		return t, nil
	}
	ctx, cancel := readCtx()
	defer cancel()
	var v string
	err := db.pool.QueryRow(ctx, `SELECT mark FROM reconcile_marks WHERE source = $1`, source).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, nil
	}
	if err == nil {
		err = t.UnmarshalText([]byte(v))
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reconcile mark %s: %w", source, err)
	}
	return t, nil
}

// SetReconcileMark stores the reconciliation high-water mark of source.
func (db *DB) SetReconcileMark(source string, t time.Time) error {
	v, err := t.UTC().MarshalText()
	if err == nil && !storable(source) {
		err = errors.New("source is not storable text")
	}
	if err != nil {
		return fmt.Errorf("set reconcile mark %s: %w", source, err)
	}
	ctx, cancel := readCtx()
	defer cancel()
	_, err = db.pool.Exec(ctx, `INSERT INTO reconcile_marks (source, mark) VALUES ($1, $2)
ON CONFLICT (source) DO UPDATE SET mark = excluded.mark`, source, string(v))
	if err != nil {
		return fmt.Errorf("set reconcile mark %s: %w", source, err)
	}
	return nil
}
