-- The full-text index is keyed by a stable integer per document (search_rowid), not by the
-- document's text id in an UNINDEXED column: a rename, a classification or a delete then
-- touches one entry of the index instead of scanning all of it. (The table's own rowid is
-- no key: VACUUM, and so a backup, may renumber it.) The owner is an indexed column, so a
-- search is scoped to its user inside the index.
ALTER TABLE documents ADD COLUMN search_rowid INTEGER;
UPDATE documents SET search_rowid = numbered.n
	FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM documents) AS numbered
	WHERE numbered.id = documents.id;
CREATE UNIQUE INDEX ux_documents_search_rowid ON documents(search_rowid);

DROP TRIGGER documents_fts_insert;
DROP TRIGGER documents_fts_update;
DROP TRIGGER documents_fts_delete;
DROP TABLE documents_fts;

CREATE VIRTUAL TABLE documents_fts USING fts5(
	owner, filename, text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
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
