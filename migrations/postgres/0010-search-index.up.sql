-- Search picks its plan per query from the lexeme statistics of documents.search (a common
-- word is ordered by recency through ix_documents_user_created, a rarer one ranked through
-- the GIN index): make sure they exist on a database that has not been analysed yet.
ANALYZE documents;
