DROP INDEX ix_documents_user_sha256;
ALTER TABLE documents DROP COLUMN thumbnail_type;
