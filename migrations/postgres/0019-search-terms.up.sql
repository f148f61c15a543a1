-- SQLite's 0019 adds a table of the search index's words, which a prefix search consults
-- before it merges their lists. PostgreSQL decides from documents.search's statistics
-- (pg_stats) instead; the index says so.
COMMENT ON INDEX ix_documents_user_search IS 'A search''s last word matches as a prefix only while pg_stats puts its words in under 2% of the documents.';
