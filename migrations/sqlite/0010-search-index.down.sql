DROP TRIGGER documents_fts_insert;
DROP TRIGGER documents_fts_update;
DROP TRIGGER documents_fts_delete;
DROP TABLE documents_fts;

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

DROP INDEX ux_documents_search_rowid;
ALTER TABLE documents DROP COLUMN search_rowid;
