-- The deletion outbox goes away with this step: refuse while it still holds object keys not
-- yet deleted from the blob store, or those objects would stay there for good. (SQLite
-- raises errors from triggers only.)
CREATE TEMP TABLE outbox_guard (pending INTEGER NOT NULL);
CREATE TEMP TRIGGER outbox_guard_check BEFORE INSERT ON outbox_guard WHEN NEW.pending > 0 BEGIN
	SELECT RAISE(ABORT, 'blob_deletions still holds object keys not yet deleted from the blob store: drain it first (docuvault migrate up with the blob store reachable; docuvault migrate status shows what is left)');
END;
INSERT INTO outbox_guard SELECT COUNT(*) FROM blob_deletions;
DROP TABLE outbox_guard;

-- One-way: the ownerless documents and the topics that 0003 deleted do not come back.
DROP INDEX ux_topics_system_name;
DROP INDEX ux_topics_user_name;
DROP INDEX ix_topics_user_id;
DROP INDEX ix_documents_user_created;

-- SQLite cannot drop NOT NULL in place: rebuild documents as 0001 made it. Dropping the old
-- table deletes its document_topics rows by cascade, so they are kept aside and put back.
CREATE TEMP TABLE kept_document_topics AS SELECT * FROM document_topics;
CREATE TABLE documents_old (
	id TEXT PRIMARY KEY,
	user_id TEXT REFERENCES users(id),
	filename TEXT NOT NULL,
	content_type TEXT NOT NULL,
	object_key TEXT NOT NULL UNIQUE,
	size_bytes INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL,
	error TEXT,
	created_at TIMESTAMP NOT NULL,
	uploaded_at TIMESTAMP,
	classified_at TIMESTAMP
);
INSERT INTO documents_old SELECT id, user_id, filename, content_type, object_key, size_bytes,
	status, error, created_at, uploaded_at, classified_at FROM documents;
DROP TABLE documents;
ALTER TABLE documents_old RENAME TO documents;
INSERT INTO document_topics SELECT * FROM kept_document_topics;
DROP TABLE kept_document_topics;

DROP TABLE blob_deletions;
