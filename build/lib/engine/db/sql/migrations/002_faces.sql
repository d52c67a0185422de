-- Faces and persons (F6, F7, F8) and suggested people from clustering (B1).
-- Boxes and landmarks are in the photo's pixels as decoded and EXIF-oriented, at full size
-- (photos.width x photos.height), before the user rotation (exif_data->'UserRotation'), which is
-- applied on read.

CREATE TABLE IF NOT EXISTS persons (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    description   TEXT,
    cover_face_id BIGINT,                      -- chosen cover; NULL = the best-scored face
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS persons_name_idx ON persons (lower(name));

-- A group of unassigned faces that look like one person, to be named or dismissed.
CREATE TABLE IF NOT EXISTS face_clusters (
    id          BIGSERIAL PRIMARY KEY,
    dismissed   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS faces (
    id           BIGSERIAL PRIMARY KEY,
    photo_id     BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    bbox         REAL[] NOT NULL CHECK (array_length(bbox, 1) = 4),   -- x1, y1, x2, y2
    landmarks    REAL[],                                               -- 5 points, x y flattened
    det_score    REAL NOT NULL,
    age          SMALLINT,
    gender       CHAR(1) CHECK (gender IN ('M', 'F')),
    embedding    VECTOR(512) NOT NULL,                                 -- unit length (ArcFace)
    person_id    BIGINT REFERENCES persons (id) ON DELETE SET NULL,
    assigned_by  TEXT CHECK (assigned_by IN ('user', 'auto', 'suggestion')),
    cluster_id   BIGINT REFERENCES face_clusters (id) ON DELETE SET NULL,
    model        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS faces_photo_idx ON faces (photo_id);
CREATE INDEX IF NOT EXISTS faces_person_idx ON faces (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS faces_cluster_idx ON faces (cluster_id) WHERE cluster_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS faces_embedding_hnsw ON faces USING hnsw (embedding vector_cosine_ops);

ALTER TABLE persons ADD CONSTRAINT persons_cover_face_fk
    FOREIGN KEY (cover_face_id) REFERENCES faces (id) ON DELETE SET NULL;

CREATE INDEX IF NOT EXISTS photos_faces_pending_idx ON photos (id) WHERE NOT faces_indexed;
