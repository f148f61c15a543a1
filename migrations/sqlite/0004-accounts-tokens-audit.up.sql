-- session_epoch is stored in each session: bumping it ends every other session of the user.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

CREATE TABLE api_tokens (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL,
	last_used_at TIMESTAMP,
	expires_at TIMESTAMP
);
CREATE INDEX ix_api_tokens_user_id ON api_tokens(user_id);

CREATE TABLE login_failures (
	username TEXT NOT NULL,
	ip TEXT NOT NULL,
	at TIMESTAMP NOT NULL
);
CREATE INDEX ix_login_failures_username ON login_failures(username, at);
CREATE INDEX ix_login_failures_ip ON login_failures(ip, at);

CREATE TABLE audit_log (
	id TEXT PRIMARY KEY,
	at TIMESTAMP NOT NULL,
	actor_id TEXT,
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_audit_log_at ON audit_log(at DESC, id DESC);

-- Secrets every replica must share (the upload-token key), created once.
CREATE TABLE app_secrets (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
