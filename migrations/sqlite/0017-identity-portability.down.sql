DROP INDEX ux_users_email;
ALTER TABLE users DROP COLUMN email;
DROP TABLE user_identities;
DROP INDEX ix_documents_user_sha256;
