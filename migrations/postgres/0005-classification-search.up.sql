ALTER TABLE documents ADD COLUMN text TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE documents ADD COLUMN claimed_until TIMESTAMPTZ;
CREATE INDEX ix_documents_queue ON documents(status, next_attempt_at);
CREATE INDEX ix_documents_pending ON documents(status, created_at);
CREATE INDEX ix_document_topics_topic ON document_topics(topic_id);

-- Full-text index over filename and extracted text.
ALTER TABLE documents ADD COLUMN search tsvector
	GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(filename || ' ' || text, '[^[:alnum:]]+', ' ', 'g'))) STORED;
CREATE INDEX ix_documents_search ON documents USING GIN (search);
