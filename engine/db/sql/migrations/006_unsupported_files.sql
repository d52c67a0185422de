-- Files the scan finds but does not index (videos, Photoshop documents, JPEG 2000, ...), with the
-- reason: listed by `photoindex failed --unsupported`, /stats and Admin instead of skipped silently.
CREATE TABLE IF NOT EXISTS unsupported_files (
    path       TEXT PRIMARY KEY,                   -- POSIX path relative to PHOTOS_DIR
    size       BIGINT NOT NULL,
    mtime      DOUBLE PRECISION NOT NULL,
    extension  TEXT NOT NULL,                      -- lower case, without the dot
    reason     TEXT NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS unsupported_files_extension_idx ON unsupported_files (extension);
