DROP INDEX ux_topics_system_name;
DROP INDEX ux_topics_user_name;
DROP INDEX ix_topics_user_id;
DROP INDEX ix_documents_user_created;
DROP TABLE blob_deletions;
