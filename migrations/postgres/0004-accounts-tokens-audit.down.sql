DROP TABLE app_secrets;
DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE api_tokens;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN session_epoch;
