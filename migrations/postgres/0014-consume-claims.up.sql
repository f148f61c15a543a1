-- A file in a consume folder is taken by one replica at a time: the claim names the file
-- (its path under the folder, size and modification time), who holds it until when, and
-- the document it became, so a replica that dies mid-way leaves enough to finish the file
-- without losing or duplicating it.
CREATE TABLE consume_claims (
	path TEXT NOT NULL,
	size_bytes BIGINT NOT NULL,
	mtime_ns BIGINT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	holder TEXT NOT NULL,
	claimed_until_ns BIGINT NOT NULL,
	document_id TEXT,
	state TEXT NOT NULL DEFAULT 'claimed' CHECK (state IN ('claimed', 'done')),
	PRIMARY KEY (path, size_bytes, mtime_ns)
);
CREATE INDEX ix_consume_claims_user_id ON consume_claims (user_id);
