-- The deletion outbox goes away with this step: refuse while it still holds object keys not
-- yet deleted from the blob store, or those objects would stay there for good.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM blob_deletions) THEN
		RAISE EXCEPTION 'blob_deletions still holds % object key(s) not yet deleted from the blob store: drain it first (docuvault migrate up with the blob store reachable; docuvault migrate status shows what is left)',
			(SELECT COUNT(*) FROM blob_deletions);
	END IF;
END $$;

-- One-way: the ownerless documents and the topics that 0003 deleted do not come back.
DROP INDEX ux_topics_system_name;
DROP INDEX ux_topics_user_name;
DROP INDEX ix_topics_user_id;
DROP INDEX ix_documents_user_created;
ALTER TABLE documents ALTER COLUMN user_id DROP NOT NULL;
DROP TABLE blob_deletions;
