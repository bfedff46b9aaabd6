-- The archive, the dedup window, the outbox and the chain head: what the
-- accept path writes, in one transaction per group-committed batch.

-- events is the archive: one row per accepted event, every field of
-- inbox.Event, the exact body received and its link in the hash chain.
-- received_ns is the receive time exactly as hashed (Unix nanoseconds);
-- received_at keeps only microseconds and serves queries and retention.
-- dedup_keys and destinations are JSON arrays of strings.
CREATE TABLE events (
    seq               bigint PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    source            text NOT NULL,
    provider          text NOT NULL,
    type              text NOT NULL,
    interview_id      text NOT NULL,
    status            text NOT NULL,
    quarantine_reason text NOT NULL,
    origin            text NOT NULL,
    received_at       timestamptz NOT NULL,
    received_ns       bigint NOT NULL,
    remote_addr       text NOT NULL,
    request_id        text NOT NULL,
    headers           json NOT NULL,
    content_type      text NOT NULL,
    body_sha256       text NOT NULL,
    body_size         integer NOT NULL,
    verification      json NOT NULL,
    dedup_keys        json NOT NULL,
    destinations      json NOT NULL,
    prev_hash         text NOT NULL,
    hash              text NOT NULL,
    body              bytea NOT NULL
);
CREATE INDEX events_source_type ON events (source, type, seq);
CREATE INDEX events_interview ON events (source, interview_id, seq) WHERE interview_id <> '';
CREATE INDEX events_status ON events (status, seq);
CREATE INDEX events_received_at ON events (received_at);

-- dedup_keys holds each key an event claimed while it is in the window.
-- key_hash (SHA-256 of the key's exact bytes) is the identity, so keys of
-- any length are exact; key is the inbox.BoundKey form, for display.
CREATE TABLE dedup_keys (
    source     text NOT NULL,
    key_hash   bytea NOT NULL,
    key        text NOT NULL,
    event_id   text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (source, key_hash)
);
CREATE INDEX dedup_keys_expires_at ON dedup_keys (expires_at);
CREATE INDEX dedup_keys_event_id ON dedup_keys (event_id);

-- sightings records each duplicate delivery of an event.
CREATE TABLE sightings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    remote_addr text NOT NULL,
    request_id  text NOT NULL,
    body_sha256 text NOT NULL,
    dedup_key   text NOT NULL
);
CREATE INDEX sightings_event_id ON sightings (event_id, id);

-- outbox holds one row per pending forward. The lease columns are for
-- claiming rows across nodes: a claim sets them, and a claim whose
-- lease_until has passed may be taken by another node.
CREATE TABLE outbox (
    event_id     text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination  text NOT NULL,
    interview_id text NOT NULL,
    seq          bigint NOT NULL,
    due_at       timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    total        integer NOT NULL DEFAULT 0,
    failures     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    lease_owner  text,
    lease_until  timestamptz,
    PRIMARY KEY (event_id, destination)
);
CREATE INDEX outbox_due_at ON outbox (due_at);
CREATE INDEX outbox_order ON outbox (destination, interview_id, seq);

-- chain_head is the newest link of the one hash chain all nodes extend.
-- Each accept batch locks its single row (SELECT ... FOR UPDATE) before
-- numbering events, so batches from every node are chained one at a time.
CREATE TABLE chain_head (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq      bigint NOT NULL,
    hash     text NOT NULL,
    event_id text NOT NULL
);
INSERT INTO chain_head (seq, hash, event_id)
VALUES (0, '0000000000000000000000000000000000000000000000000000000000000000', '');
