-- Duplicates that find every copy (issue 13) and face suggestions that remember (issue 13).

-- The duplicate finder's signature of a photo (engine/library/signatures.py: a version byte,
-- the 16x16 DCT block behind the 256-bit pHash, a 32x32 grey copy, a 3x3 chroma grid) and the
-- JPEG quality estimated from the file's quantisation tables (the keeper rule). Computed by the
-- pHash stage; photos hashed before this migration are hashed again.
ALTER TABLE photos ADD COLUMN IF NOT EXISTS signature BYTEA;
ALTER TABLE photos ADD COLUMN IF NOT EXISTS jpeg_quality SMALLINT;
UPDATE photos SET phash_indexed = FALSE WHERE phash_indexed AND signature IS NULL;

-- Pairs that passed the loosest duplicate rule, with the measurements that decide them at query
-- time (engine/library/matching.py Evidence, read a -> b). Found incrementally: a photo is in
-- duplicate_compared once it was compared with every photo hashed before it.
CREATE TABLE IF NOT EXISTS duplicate_pairs (
    a         BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    b         BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    evidence  JSONB NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
CREATE INDEX IF NOT EXISTS duplicate_pairs_b_idx ON duplicate_pairs (b);

CREATE TABLE IF NOT EXISTS duplicate_compared (
    photo_id  BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    version   SMALLINT NOT NULL
);

-- The copy a user chose to keep in its group (instead of the keeper rule's choice).
CREATE TABLE IF NOT EXISTS duplicate_keepers (
    photo_id   BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    chosen_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- "Not this person": a face a user took away from a person is never proposed to them again.
CREATE TABLE IF NOT EXISTS face_rejections (
    face_id    BIGINT NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (face_id, person_id)
);
CREATE INDEX IF NOT EXISTS face_rejections_person_idx ON face_rejections (person_id);

-- Incremental suggestions: a face is checked once against the faces before it (its HNSW
-- neighbours); noise waits there until a later face comes close. Faces already in a suggestion
-- or assigned count as checked; unassigned noise of the old clustering is checked once more.
ALTER TABLE faces ADD COLUMN IF NOT EXISTS cluster_checked BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE faces SET cluster_checked = TRUE WHERE cluster_id IS NOT NULL OR person_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS faces_cluster_pending_idx ON faces (id) WHERE NOT cluster_checked;
