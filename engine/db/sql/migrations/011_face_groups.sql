-- A face's place among the suggested people (checked against the others; in which suggestion),
-- apart from the row that holds its vector: a rewritten `faces` row is also a new entry in the
-- faces' HNSW index (~1.5 ms of graph insertion at 100k faces), so grouping a face must not
-- rewrite it (bench/RESULTS.md, face clustering at 100,000 faces).
CREATE TABLE IF NOT EXISTS face_groups (
    face_id    BIGINT PRIMARY KEY REFERENCES faces (id) ON DELETE CASCADE,
    cluster_id BIGINT REFERENCES face_clusters (id) ON DELETE SET NULL,
    checked    BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO face_groups (face_id, cluster_id, checked)
    SELECT id, cluster_id, cluster_checked FROM faces WHERE cluster_id IS NOT NULL OR cluster_checked
    ON CONFLICT (face_id) DO NOTHING;
CREATE INDEX IF NOT EXISTS face_groups_cluster_idx ON face_groups (cluster_id) WHERE cluster_id IS NOT NULL;
DROP INDEX IF EXISTS faces_cluster_pending_idx;
DROP INDEX IF EXISTS faces_cluster_idx;
ALTER TABLE faces DROP COLUMN IF EXISTS cluster_checked;
ALTER TABLE faces DROP COLUMN IF EXISTS cluster_id;
