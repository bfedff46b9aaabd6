-- An event type longer than any provider sends (over 512 bytes; such
-- events are archived quarantined) could exceed a btree entry's limit,
-- about 2,700 bytes, and fail its whole batch on every retry. The index
-- leaves those rows out: a search for such a type reads the table.
DROP INDEX events_source_type;
CREATE INDEX events_source_type ON events (source, type, seq) WHERE octet_length(type) <= 512;
