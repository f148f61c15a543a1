ALTER TABLE quotas DROP COLUMN pending_bytes;
ALTER TABLE documents DROP COLUMN upload_state;
ALTER TABLE documents DROP COLUMN sha256;
