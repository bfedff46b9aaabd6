-- A delivery answered as the duplicate of an earlier event, whose bytes
-- differ from every delivery archived before, is archived too (status
-- duplicate) so that no payload received is lost; duplicate_of names
-- the event it duplicates. Adding a nullable column rewrites no rows.
ALTER TABLE events ADD COLUMN duplicate_of text;
