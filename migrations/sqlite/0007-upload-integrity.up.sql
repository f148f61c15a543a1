-- Upload integrity: the SHA-256 of a document's confirmed bytes; the one-time claim of a
-- local upload URL ('receiving' while its body streams, 'received' after); and the bytes
-- reserved by each user's pending uploads, bounded at upload-url time.
ALTER TABLE documents ADD COLUMN sha256 TEXT;
ALTER TABLE documents ADD COLUMN upload_state TEXT;
ALTER TABLE quotas ADD COLUMN pending_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE quotas SET pending_bytes = COALESCE((SELECT SUM(d.size_bytes) FROM documents d
	WHERE d.user_id = quotas.user_id AND d.status = 'pending'), 0);
