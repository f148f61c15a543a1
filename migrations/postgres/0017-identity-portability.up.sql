-- Imports skip a file the user already holds by its SHA-256: one index lookup per file.
CREATE INDEX ix_documents_user_sha256 ON documents(user_id, sha256);
