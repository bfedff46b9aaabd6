-- A foreign key costs every inserted row a lookup and a lock of the
-- event it names. Dedup keys and sightings are written on every
-- delivery, always with or after their event in one transaction, and
-- retention removes them with their events itself, so their keys earn
-- neither.
ALTER TABLE dedup_keys DROP CONSTRAINT dedup_keys_event_id_fkey;
ALTER TABLE sightings DROP CONSTRAINT sightings_event_id_fkey;
