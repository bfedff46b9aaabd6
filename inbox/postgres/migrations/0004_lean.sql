-- Each index on a table the accept path writes costs every batch an entry
-- per row; these earn none.

-- No query filters events by received_at: retention and Verify walk seq.
DROP INDEX events_received_at;

-- Nothing looks dedup keys up by expiry: a batch replaces the expired
-- keys it meets by primary key, and retention removes keys with their
-- events (dedup_keys_event_id).
DROP INDEX dedup_keys_expires_at;

-- Almost every event is accepted: a list of the accepted walks the id
-- index and skips the few others, so only the others are indexed.
DROP INDEX events_status;
CREATE INDEX events_status ON events (status, seq) WHERE status <> 'accepted';
