-- Statements are planned for their arguments now (see store.openPostgres): a search chooses
-- between the GIN index and the user's newest documents by the lexeme statistics of
-- documents.search, so make sure they exist on a database that was never analysed.
ANALYZE documents;
