DROP TABLE documents_fts_terms;
