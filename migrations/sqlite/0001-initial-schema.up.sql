CREATE TABLE users (
	id TEXT PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	is_active BOOLEAN NOT NULL DEFAULT TRUE,
	totp_secret TEXT,
	totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	ai_provider TEXT,
	ai_model TEXT,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE quotas (
	user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	limit_bytes INTEGER NOT NULL DEFAULT 104857600 CHECK (limit_bytes >= 0),
	used_bytes INTEGER NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
);

CREATE TABLE documents (
	id TEXT PRIMARY KEY,
	user_id TEXT REFERENCES users(id),
	filename TEXT NOT NULL,
	content_type TEXT NOT NULL,
	object_key TEXT NOT NULL UNIQUE,
	size_bytes INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL,
	error TEXT,
	created_at TIMESTAMP NOT NULL,
	uploaded_at TIMESTAMP,
	classified_at TIMESTAMP
);

CREATE TABLE topics (
	id TEXT PRIMARY KEY,
	user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE document_topics (
	document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
	topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	source TEXT NOT NULL CHECK (source IN ('ai', 'user')),
	confidence REAL,
	PRIMARY KEY (document_id, topic_id)
);

CREATE TABLE sessions (
	token TEXT PRIMARY KEY,
	data BLOB NOT NULL,
	expiry REAL NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions(expiry);
