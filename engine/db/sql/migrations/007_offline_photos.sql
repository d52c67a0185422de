-- Photos whose file is gone (an unmounted disk, a moved folder) stay in the index, marked offline:
-- a scan never deletes them. They come back with their id, albums, faces and rotation when the file
-- returns at the same path or, with the same bytes, under a new one. Removing them is an explicit
-- action (CLI, REST, Admin) or follows OFFLINE_GRACE_DAYS.
ALTER TABLE photos ADD COLUMN IF NOT EXISTS offline_since TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS photos_offline_idx ON photos (offline_since) WHERE offline_since IS NOT NULL;
