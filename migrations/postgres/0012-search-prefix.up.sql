-- One GIN index over (user_id, search), with the btree_gin extension (trusted since
-- PostgreSQL 13: the database's owner may create it): a search then intersects the user's
-- entry with its words' entries inside the index, instead of reading every match's row of
-- all users to check its owner. The extension lives in public, where every schema of the
-- database finds it; schemas migrating at once take turns creating it. Without the right to
-- create it the plain index stays (searches are correct, only slower) and a warning says so.
DO $$
BEGIN
	PERFORM pg_advisory_xact_lock(7402117301);
	BEGIN
		CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public;
	EXCEPTION WHEN insufficient_privilege OR undefined_file OR invalid_schema_name THEN
		RAISE WARNING 'btree_gin unavailable (%), searches keep the plain index', SQLERRM;
	END;
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN
		CREATE INDEX ix_documents_user_search ON documents USING GIN (user_id, search);
		DROP INDEX ix_documents_search;
	END IF;
END $$;
