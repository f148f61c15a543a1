DROP INDEX ux_users_email;
ALTER TABLE users DROP COLUMN email;
DROP TABLE user_identities;
