-- SQLite's 0019 adds a table of the search index's words, which a prefix search consults
-- before it merges their lists. PostgreSQL estimates the same from documents.search's
-- statistics (pg_stats) instead; the index says so.
COMMENT ON INDEX ix_documents_user_search IS 'A search''s last word matches as a prefix only while the words starting so are in few documents by pg_stats (store.DefaultPrefixMergeLimit).';
