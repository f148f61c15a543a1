DROP INDEX ix_documents_search;
ALTER TABLE documents DROP COLUMN search;
DROP INDEX ix_document_topics_topic;
DROP INDEX ix_documents_pending;
DROP INDEX ix_documents_queue;
ALTER TABLE documents DROP COLUMN claimed_until;
ALTER TABLE documents DROP COLUMN next_attempt_at;
ALTER TABLE documents DROP COLUMN attempts;
ALTER TABLE documents DROP COLUMN text;
