-- Login throttling by counters, one row per bucket (a username with a client address, a
-- client address, a username, a known device). One upsert counts an attempt and decides
-- whether it may proceed, atomically, before any password hash is computed; every replica
-- shares the rows. Times are Unix milliseconds so both dialects compare them alike.
CREATE TABLE login_throttle (
	bucket TEXT PRIMARY KEY,
	attempts INTEGER NOT NULL,
	window_start BIGINT NOT NULL,
	next_at BIGINT NOT NULL,
	granted BOOLEAN NOT NULL
);
CREATE INDEX ix_login_throttle_window_start ON login_throttle(window_start);

-- The failure log it replaces was read, then written: parallel guesses all passed the read.
DROP TABLE login_failures;
