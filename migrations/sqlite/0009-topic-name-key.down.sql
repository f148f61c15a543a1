-- Back to lower(name): two names that lower() does not see as equal can both exist again;
-- nothing is lost.
DROP INDEX ux_topics_user_name;
DROP INDEX ux_topics_system_name;
CREATE UNIQUE INDEX ux_topics_user_name ON topics(user_id, lower(name)) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX ux_topics_system_name ON topics(lower(name)) WHERE user_id IS NULL;
ALTER TABLE topics DROP COLUMN name_key;
