-- The timeline and live pages.
--
-- Timeline: every photo by the moment it was taken (its file time when the camera wrote no
-- date), newest first, read page by page with a keyset (moment, id) so the thousandth page costs
-- what the first does. The expression is the one `engine/db/timeline.py` orders by.
CREATE INDEX IF NOT EXISTS photos_timeline_idx ON photos ((coalesce(taken_at, to_timestamp(mtime))), id)
    WHERE NOT index_failed;

-- Library revision: a counter every statement that changes what a page shows moves forward
-- (photos, faces, persons, albums, the trash). Pages poll it (one cheap read) and refresh what
-- they show when it moved, whoever made the change: a job, another browser, the REST API, the CLI.
-- A sequence is not transactional, so a rolled-back change costs at most one needless refresh.
CREATE SEQUENCE IF NOT EXISTS library_revision;

CREATE OR REPLACE FUNCTION library_revision_bump() RETURNS trigger AS $$
BEGIN
    PERFORM nextval('library_revision');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['photos', 'faces', 'persons', 'face_clusters', 'albums', 'album_photos', 'trash'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_revision_trg', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION library_revision_bump()', t || '_revision_trg', t);
    END LOOP;
END;
$$;
