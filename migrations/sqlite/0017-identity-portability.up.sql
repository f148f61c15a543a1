-- Imports skip a file the user already holds by its SHA-256: one index lookup per file.
-- 0013-document-content made the same index for duplicate uploads; this keeps it.
CREATE INDEX IF NOT EXISTS ix_documents_user_sha256 ON documents(user_id, sha256);
