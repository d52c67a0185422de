-- Library operations: perceptual hashes (duplicates), albums and the trash.

-- 256-bit DCT perceptual hash (imagehash.phash, hash_size=16) as a native bit string, so
-- pgvector's Hamming operator `<~>` and an HNSW index (bit_hamming_ops) find near copies.
-- phash_indexed is the stage's own flag: TRUE once tried; TRUE with a NULL phash = not decodable.
ALTER TABLE photos ADD COLUMN IF NOT EXISTS phash BIT(256);
ALTER TABLE photos ADD COLUMN IF NOT EXISTS phash_indexed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX IF NOT EXISTS photos_phash_pending_idx ON photos (id) WHERE NOT phash_indexed;
CREATE INDEX IF NOT EXISTS photos_phash_exact_idx ON photos (phash) WHERE phash IS NOT NULL;
CREATE INDEX IF NOT EXISTS photos_phash_hnsw ON photos USING hnsw (phash bit_hamming_ops);

CREATE TABLE IF NOT EXISTS albums (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT,
    cover_photo_id  BIGINT REFERENCES photos (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS album_photos (
    album_id   BIGINT NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    photo_id   BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    added_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (album_id, photo_id)
);
CREATE INDEX IF NOT EXISTS album_photos_photo_idx ON album_photos (photo_id);

-- A trashed photo: the file sits at TRASH_DIR/trash_path (the library's folder structure), its
-- photos row is deleted (embeddings and faces go with it) and kept here as JSON, together with
-- the albums it was in, its faces (person links included) and its image-text vectors, so a
-- restore puts back the same id, metadata, rotation, people and search vectors.
CREATE TABLE IF NOT EXISTS trash (
    id             BIGSERIAL PRIMARY KEY,
    photo_id       BIGINT NOT NULL,
    original_path  TEXT NOT NULL,
    trash_path     TEXT NOT NULL UNIQUE,
    size           BIGINT NOT NULL,
    content_hash   TEXT,
    photo          JSONB NOT NULL,
    album_ids      BIGINT[] NOT NULL DEFAULT '{}',
    faces          JSONB NOT NULL DEFAULT '[]'::jsonb,   -- its faces, with person links and embeddings
    embeddings     JSONB NOT NULL DEFAULT '{}'::jsonb,   -- image-text vectors by table name
    reason         TEXT,
    deleted_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS trash_photo_idx ON trash (photo_id);
