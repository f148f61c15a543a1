DROP TRIGGER documents_fts_insert;
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
	UPDATE documents SET search_rowid = (SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM documents) WHERE id = new.id;
	INSERT INTO documents_fts (rowid, owner, filename, text)
		SELECT search_rowid, 'u' || replace(new.user_id, '-', ''), new.filename, new.text FROM documents WHERE id = new.id;
END;
DROP TABLE documents_fts_terms;
