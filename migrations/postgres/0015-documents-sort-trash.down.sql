-- Trashed documents come back to the list: the trash has no meaning at this version.
DROP INDEX ix_documents_list_created;
CREATE INDEX ix_documents_user_created ON documents(user_id, created_at DESC, id DESC);
DROP INDEX ix_documents_list_name;
DROP INDEX ix_documents_list_size;
DROP INDEX ix_documents_trash_expiry;
ALTER TABLE documents DROP COLUMN name_key;
ALTER TABLE documents DROP COLUMN trashed;
ALTER TABLE documents DROP COLUMN trashed_at;
ALTER TABLE quotas DROP COLUMN trash_bytes;
ALTER TABLE quotas DROP COLUMN document_count;
ALTER TABLE quotas DROP COLUMN trash_count;
