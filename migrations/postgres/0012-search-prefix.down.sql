-- The plain index again; the extension stays, other schemas of the database may use it.
CREATE INDEX IF NOT EXISTS ix_documents_search ON documents USING GIN (search);
DROP INDEX IF EXISTS ix_documents_user_search;
