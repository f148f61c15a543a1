-- PostgreSQL's 0020 adds functions that reserve and confirm an upload in one statement each,
-- so a user's quota row is locked only while they run. SQLite runs one write at a time on a
-- connection of its own (see store.writeBatcher) and keeps the statements in Go.
SELECT 1;
