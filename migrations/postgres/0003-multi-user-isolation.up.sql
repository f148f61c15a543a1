-- Legacy single-user documents have no owner: their objects go to the deletion outbox
-- (drained against the blob store after the migration), their rows and topics go away.
CREATE TABLE blob_deletions (
	object_key TEXT PRIMARY KEY,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00:00',
	last_error TEXT
);

INSERT INTO blob_deletions (object_key)
	SELECT object_key FROM documents WHERE user_id IS NULL
	ON CONFLICT (object_key) DO NOTHING;

DELETE FROM document_topics;
DELETE FROM topics;
DELETE FROM documents WHERE user_id IS NULL;

ALTER TABLE documents ALTER COLUMN user_id SET NOT NULL;
CREATE INDEX ix_documents_user_created ON documents(user_id, created_at DESC, id DESC);

CREATE INDEX ix_topics_user_id ON topics(user_id);
CREATE UNIQUE INDEX ux_topics_user_name ON topics(user_id, lower(name)) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX ux_topics_system_name ON topics(lower(name)) WHERE user_id IS NULL;

UPDATE quotas SET used_bytes = COALESCE(
	(SELECT SUM(d.size_bytes) FROM documents d WHERE d.user_id = quotas.user_id AND d.status <> 'pending'), 0);
