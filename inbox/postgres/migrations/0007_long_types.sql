-- events_source_type indexes events.type, and a btree entry holds at
-- most about 2,700 bytes, so a signed delivery with a longer type failed
-- its insert on every retry. A type longer than 2,048 bytes (only a
-- quarantined event has one) is now stored in type as "%#" and its
-- SHA-256, and whole in type_full; reads take type_full where it is set.
-- Adding a nullable column rewrites no rows.
ALTER TABLE events ADD COLUMN type_full text;
