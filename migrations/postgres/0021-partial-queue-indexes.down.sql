DROP INDEX ix_documents_pending;
CREATE INDEX ix_documents_pending ON documents (status, created_at);
DROP INDEX ix_documents_queue;
CREATE INDEX ix_documents_queue ON documents (status, next_attempt_at);
