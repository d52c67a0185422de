-- Photo index schema, version 1. Later changes live in sql/migrations/NNN_name.sql and are
-- applied in order at start; this file is never edited after release.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS photos (
    id              BIGSERIAL PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,          -- POSIX path relative to PHOTOS_DIR
    size            BIGINT NOT NULL,
    mtime           DOUBLE PRECISION NOT NULL,
    content_hash    TEXT,                          -- blake2b-128 of the file bytes
    format          TEXT NOT NULL,                 -- jpg, png, webp, bmp, heic, nef, cr2, ...
    width           INTEGER,
    height          INTEGER,
    taken_at        TIMESTAMPTZ,
    camera          TEXT,
    lens            TEXT,
    latitude        DOUBLE PRECISION,
    longitude       DOUBLE PRECISION,
    altitude        DOUBLE PRECISION,
    exif_data       JSONB NOT NULL DEFAULT '{}'::jsonb,
    metadata_read   BOOLEAN NOT NULL DEFAULT FALSE,
    index_failed    BOOLEAN NOT NULL DEFAULT FALSE,
    fail_reason     TEXT,
    faces_indexed   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS photos_format_idx ON photos (format);
CREATE INDEX IF NOT EXISTS photos_taken_at_idx ON photos (taken_at);
CREATE INDEX IF NOT EXISTS photos_failed_idx ON photos (id) WHERE index_failed;
CREATE INDEX IF NOT EXISTS photos_content_hash_idx ON photos (content_hash);
CREATE INDEX IF NOT EXISTS photos_gps_idx ON photos (latitude, longitude) WHERE latitude IS NOT NULL;

-- One embedding store per image-text model (halfvec: half the size, same recall in practice).
CREATE TABLE IF NOT EXISTS embeddings_siglip (
    photo_id   BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    embedding  HALFVEC(1152) NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS embeddings_siglip2 (
    photo_id   BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    embedding  HALFVEC(1152) NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS embeddings_vit_b32 (
    photo_id   BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    embedding  HALFVEC(512) NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS embeddings_vit_b16 (
    photo_id   BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    embedding  HALFVEC(512) NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS embeddings_vit_l14 (
    photo_id   BIGINT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    embedding  HALFVEC(768) NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS embeddings_siglip_hnsw ON embeddings_siglip USING hnsw (embedding halfvec_cosine_ops);
CREATE INDEX IF NOT EXISTS embeddings_siglip2_hnsw ON embeddings_siglip2 USING hnsw (embedding halfvec_cosine_ops);
CREATE INDEX IF NOT EXISTS embeddings_vit_b32_hnsw ON embeddings_vit_b32 USING hnsw (embedding halfvec_cosine_ops);
CREATE INDEX IF NOT EXISTS embeddings_vit_b16_hnsw ON embeddings_vit_b16 USING hnsw (embedding halfvec_cosine_ops);
CREATE INDEX IF NOT EXISTS embeddings_vit_l14_hnsw ON embeddings_vit_l14 USING hnsw (embedding halfvec_cosine_ops);
