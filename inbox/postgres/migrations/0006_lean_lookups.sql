-- Two more indexes the accept path wrote on every delivery and no
-- query needs.

-- An interview id is found through events_interview_fold: the folded
-- form of an id is a prefix of itself, so an equality filter on
-- interview_id also filters on interview_fold (see newFilter).
DROP INDEX events_interview;

-- Retention finds an event's dedup keys by their primary key, hashing
-- the keys the event lists (see deleteKeys).
DROP INDEX dedup_keys_event_id;
