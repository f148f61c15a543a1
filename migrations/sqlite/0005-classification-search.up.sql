ALTER TABLE documents ADD COLUMN text TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE documents ADD COLUMN claimed_until TIMESTAMP;
CREATE INDEX ix_documents_queue ON documents(status, next_attempt_at);
CREATE INDEX ix_documents_pending ON documents(status, created_at);
CREATE INDEX ix_document_topics_topic ON document_topics(topic_id);

-- Full-text index over filename and extracted text, kept in step by triggers.
CREATE VIRTUAL TABLE documents_fts USING fts5(
	document_id UNINDEXED, filename, text, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO documents_fts (document_id, filename, text) SELECT id, filename, text FROM documents;
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
	INSERT INTO documents_fts (document_id, filename, text) VALUES (new.id, new.filename, new.text);
END;
CREATE TRIGGER documents_fts_update AFTER UPDATE OF filename, text ON documents BEGIN
	DELETE FROM documents_fts WHERE document_id = old.id;
	INSERT INTO documents_fts (document_id, filename, text) VALUES (new.id, new.filename, new.text);
END;
CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
	DELETE FROM documents_fts WHERE document_id = old.id;
END;
