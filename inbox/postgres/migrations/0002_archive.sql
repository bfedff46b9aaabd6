-- What the archive's readers need besides the events themselves: the
-- folded interview index of prefix searches, the rejection log, the
-- access trail, enrichment records, reconciliation marks and the
-- retention checkpoint that Verify starts from.

-- interview_fold is inbox.FoldInterview(interview_id), computed by porch
-- (PostgreSQL's lower() folds differently); NULL for rows written before
-- it existed, which Open fills in and searches check row by row.
ALTER TABLE events ADD COLUMN interview_fold text;
CREATE INDEX events_interview_fold ON events (interview_fold text_pattern_ops) WHERE interview_id <> '';
CREATE INDEX events_interview_unfolded ON events (seq) WHERE interview_fold IS NULL AND interview_id <> '';

-- rejections is the bounded log of requests not archived as authentic.
-- entry is inbox.EncodeRejection's JSON and size its length, so the log
-- is bounded in bytes as the Badger engine bounds it. rejection_log
-- holds the log's totals; writers lock its one row, so every node trims
-- the same log.
CREATE SEQUENCE rejections_seq;
CREATE TABLE rejections (
    seq   bigint PRIMARY KEY,
    entry json NOT NULL,
    size  integer NOT NULL
);
CREATE TABLE rejection_log (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    entries bigint NOT NULL,
    bytes   bigint NOT NULL
);
INSERT INTO rejection_log (entries, bytes) VALUES (0, 0);

-- access_trail is who read what; each entry's class (inbox.TrailClass)
-- is bounded on its own. access_trail_classes counts each class's
-- entries; a writer locks its class's row, so the bound holds across
-- nodes.
CREATE TABLE access_trail (
    seq   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class text NOT NULL,
    entry json NOT NULL
);
CREATE INDEX access_trail_class ON access_trail (class, seq);
CREATE TABLE access_trail_classes (
    class   text PRIMARY KEY,
    entries bigint NOT NULL
);
INSERT INTO access_trail_classes (class, entries) VALUES ('search', 0), ('sensitive', 0);

-- enrichments holds each event's inbox.Enrichment as JSON bytes: the
-- provider's record is kept byte for byte, which a json column would
-- refuse when it holds invalid UTF-8.
CREATE TABLE enrichments (
    event_id text PRIMARY KEY,
    record   bytea NOT NULL
);

-- reconcile_marks holds each source's reconciliation high-water mark as
-- RFC 3339 text with nanoseconds, as the Badger engine keeps it.
CREATE TABLE reconcile_marks (
    source text PRIMARY KEY,
    mark   text NOT NULL
);

-- chain_checkpoint is the link retention left the chain at: the last
-- event removed, from which Verify starts (genesis until any is).
CREATE TABLE chain_checkpoint (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq      bigint NOT NULL,
    hash     text NOT NULL,
    event_id text NOT NULL
);
INSERT INTO chain_checkpoint (seq, hash, event_id)
VALUES (0, '0000000000000000000000000000000000000000000000000000000000000000', '');
