-- Sorting, trash and counts of the documents list.
-- name_key is the filename's Unicode case fold, computed in Go (store/documents_sort.go)
-- because SQLite's lower() folds ASCII only; lower(filename) is provisional here and the
-- migration's Go step writes the real keys.
-- trashed mirrors trashed_at IS NOT NULL as a plain column, so that it can lead the list
-- indexes beside the owner: the live list and the trash each read one contiguous range.
ALTER TABLE documents ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN trashed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE documents ADD COLUMN trashed_at TIMESTAMP;
UPDATE documents SET name_key = lower(filename);
-- The created order (also the newest-first order of searches) moves to the index with trashed.
DROP INDEX ix_documents_user_created;
CREATE INDEX ix_documents_list_created ON documents(user_id, trashed, created_at, id);
CREATE INDEX ix_documents_list_name ON documents(user_id, trashed, name_key, id);
CREATE INDEX ix_documents_list_size ON documents(user_id, trashed, size_bytes, id);
CREATE INDEX ix_documents_trash_expiry ON documents(trashed_at) WHERE trashed_at IS NOT NULL;

-- Counters kept in the same transactions as the documents they count, so a page can show
-- its total and the storage bar the trash share without counting rows.
ALTER TABLE quotas ADD COLUMN trash_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quotas ADD COLUMN document_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quotas ADD COLUMN trash_count INTEGER NOT NULL DEFAULT 0;
UPDATE quotas SET document_count = (SELECT COUNT(*) FROM documents d WHERE d.user_id = quotas.user_id);
