-- The words of the search index with one row per occurrence, read in word order: a search
-- for the start of a word longer than the prefix indexes counts the occurrences of the
-- words so starting (up to a bound) before FTS5 merges their lists. No data: FTS5 reads
-- documents_fts's own index.
CREATE VIRTUAL TABLE documents_fts_terms USING fts5vocab(documents_fts, instance);
