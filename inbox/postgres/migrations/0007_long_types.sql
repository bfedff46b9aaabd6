-- events_source_type indexes events.type, and a btree entry holds at
-- most about 2,700 bytes, so a signed delivery with a longer type failed
-- its insert on every retry. A type longer than inbox.MaxKeyPart (such an
-- event is always quarantined) is now stored in type as inbox.BoundKey
-- writes it ("%#" and its SHA-256), and as sent in type_full; reads take
-- type_full where it is set. Adding a nullable column rewrites no rows.
ALTER TABLE events ADD COLUMN type_full text;
