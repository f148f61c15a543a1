DROP TABLE backup_codes;
ALTER TABLE users DROP COLUMN password_must_change;
