-- Imports skip a file the user already holds by its SHA-256 through ix_documents_user_sha256
-- (0013-document-content).

-- Single sign-on: a provider's (issuer, subject) names one local user, linked at the first
-- login by a verified email or by an admin, never by a bare username.
CREATE TABLE user_identities (
	issuer TEXT NOT NULL,
	subject TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (issuer, subject)
);
CREATE INDEX ix_user_identities_user ON user_identities(user_id);

-- The address a first single sign-on login may be linked by (set by an admin, or by the
-- provider's verified email when it created the account).
ALTER TABLE users ADD COLUMN email TEXT;
CREATE UNIQUE INDEX ux_users_email ON users(lower(email)) WHERE email IS NOT NULL;
