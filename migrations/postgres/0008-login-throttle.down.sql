CREATE TABLE login_failures (
	username TEXT NOT NULL,
	ip TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_login_failures_username ON login_failures(username, at);
CREATE INDEX ix_login_failures_ip ON login_failures(ip, at);

DROP TABLE login_throttle;
