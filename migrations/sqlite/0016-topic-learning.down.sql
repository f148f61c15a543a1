-- The learned models and suggestions go; assignments stay.
DROP TABLE topic_stats;
DROP TABLE topic_terms;
DROP TABLE document_suggestions;
ALTER TABLE document_topics DROP COLUMN trained;
