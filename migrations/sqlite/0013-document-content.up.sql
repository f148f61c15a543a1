-- Document content: the media type of a document's thumbnail (stored beside its object,
-- NULL until the worker made one), and the index that finds a user's earlier upload of the
-- same bytes at confirm (duplicates are per user only).
ALTER TABLE documents ADD COLUMN thumbnail_type TEXT;
CREATE INDEX ix_documents_user_sha256 ON documents (user_id, sha256);
