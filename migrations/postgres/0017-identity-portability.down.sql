DROP INDEX ix_documents_user_sha256;
