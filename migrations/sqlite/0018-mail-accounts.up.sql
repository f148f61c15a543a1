-- A user's IMAP accounts: the password is AES-GCM ciphertext (intake/mailkey.go), never
-- plain text. last_error/last_polled_at are what the user sees on the account page;
-- claimed_until_ns keeps one replica polling an account at a time.
CREATE TABLE mail_accounts (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	host TEXT NOT NULL,
	port INTEGER NOT NULL,
	tls_mode TEXT NOT NULL CHECK (tls_mode IN ('tls', 'starttls', 'none')),
	username TEXT NOT NULL,
	password_enc TEXT NOT NULL,
	folder TEXT NOT NULL,
	after_action TEXT NOT NULL,
	from_filter TEXT NOT NULL DEFAULT '',
	subject_filter TEXT NOT NULL DEFAULT '',
	import_body TEXT NOT NULL DEFAULT 'none' CHECK (import_body IN ('none', 'text')),
	enabled BOOLEAN NOT NULL DEFAULT 1,
	last_polled_at TIMESTAMP,
	last_error TEXT NOT NULL DEFAULT '',
	last_error_at TIMESTAMP,
	claimed_until_ns BIGINT NOT NULL DEFAULT 0,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_mail_accounts_user_id ON mail_accounts (user_id);

-- One row per message seen in an account's folder (by UIDVALIDITY and UID): state 'done'
-- once every attachment is committed, 'acted' once the after-action is applied, 'refused'
-- when an attachment was refused (kept on the server, never retried), 'failed' when the
-- message could not be parsed.
CREATE TABLE mail_messages (
	account_id TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
	uid_validity BIGINT NOT NULL,
	uid BIGINT NOT NULL,
	message_id TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL CHECK (state IN ('done', 'acted', 'refused', 'failed')),
	error TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (account_id, uid_validity, uid)
);
CREATE INDEX ix_mail_messages_message_id ON mail_messages (account_id, message_id);

-- One row per attachment of a message, written with the pending document's id before any
-- byte is stored: a poll that died mid-way finds what each attachment became.
CREATE TABLE mail_parts (
	account_id TEXT NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
	uid_validity BIGINT NOT NULL,
	uid BIGINT NOT NULL,
	part INTEGER NOT NULL,
	document_id TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'refused')),
	error TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (account_id, uid_validity, uid, part)
);
