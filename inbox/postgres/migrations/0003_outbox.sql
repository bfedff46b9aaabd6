-- What forwarding keeps beside the outbox: each delivery's history, the
-- settled state of each delivery, dead letters, and the chain link
-- retention last removed. Everything hangs off an event and goes with it.

-- attempts is the delivery history: one row per attempt, replay request
-- or durable deferral, numbered from 1 per (event, destination). record
-- is the inbox.Attempt as JSON; n and destination are authoritative.
CREATE TABLE attempts (
    event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination text NOT NULL,
    n           bigint NOT NULL,
    record      json NOT NULL,
    PRIMARY KEY (event_id, destination, n)
);

-- delivery_state is where a settled delivery stands: delivered or dead.
-- A pending delivery's state is its outbox row; a replay deletes the row
-- here as it queues the delivery again, so the two never overlap.
CREATE TABLE delivery_state (
    event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination text NOT NULL,
    status      text NOT NULL,
    attempts    integer NOT NULL,
    last_error  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (event_id, destination)
);

-- dead_letters holds deliveries given up on, until they are replayed.
CREATE TABLE dead_letters (
    event_id     text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination  text NOT NULL,
    source       text NOT NULL,
    type         text NOT NULL,
    interview_id text NOT NULL,
    received_at  timestamptz NOT NULL,
    at           timestamptz NOT NULL,
    reason       text NOT NULL,
    attempts     integer NOT NULL,
    last_status  integer NOT NULL,
    PRIMARY KEY (event_id, destination)
);
CREATE INDEX dead_letters_at ON dead_letters (at);

-- updated_at is when a pending delivery last changed (a retry); NULL
-- until then, when its due_at, set at queueing, says the same.
ALTER TABLE outbox ADD COLUMN updated_at timestamptz;
-- Claim reads each destination's rows in due order, and finds when the
-- next lease runs out, through these.
CREATE INDEX outbox_claim ON outbox (destination, due_at, seq);
CREATE INDEX outbox_lease_until ON outbox (lease_until) WHERE lease_until IS NOT NULL;

