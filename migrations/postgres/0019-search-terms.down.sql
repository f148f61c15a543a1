COMMENT ON INDEX ix_documents_user_search IS NULL;
