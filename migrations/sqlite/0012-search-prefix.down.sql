-- The index without prefix indexes, as 0010 made it.
DROP TRIGGER documents_fts_insert;
DROP TRIGGER documents_fts_update;
DROP TRIGGER documents_fts_delete;
DROP TABLE documents_fts;

CREATE VIRTUAL TABLE documents_fts USING fts5(
	owner, filename, text, content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO documents_fts (rowid, owner, filename, text)
	SELECT search_rowid, 'u' || replace(user_id, '-', ''), filename, text FROM documents;

CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
	UPDATE documents SET search_rowid = (SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM documents) WHERE id = new.id;
	INSERT INTO documents_fts (rowid, owner, filename, text)
		SELECT search_rowid, 'u' || replace(new.user_id, '-', ''), new.filename, new.text FROM documents WHERE id = new.id;
END;
CREATE TRIGGER documents_fts_update AFTER UPDATE OF filename, text ON documents BEGIN
	DELETE FROM documents_fts WHERE rowid = old.search_rowid;
	INSERT INTO documents_fts (rowid, owner, filename, text)
		VALUES (new.search_rowid, 'u' || replace(new.user_id, '-', ''), new.filename, new.text);
END;
CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
	DELETE FROM documents_fts WHERE rowid = old.search_rowid;
END;
