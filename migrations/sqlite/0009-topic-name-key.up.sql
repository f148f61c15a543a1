-- Topic names are unique per namespace ignoring case, for every script: the key is the
-- name's Unicode case fold, computed in Go (store/topic_keys.go) because SQLite's lower()
-- folds ASCII only. Here each row gets lower(name), unique under the indexes this replaces;
-- the migration's Go step then writes the real keys (renaming a topic whose key another
-- topic of its namespace already has, "Ärzte" → "Ärzte (2)").
ALTER TABLE topics ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE topics SET name_key = lower(name);
DROP INDEX ux_topics_user_name;
DROP INDEX ux_topics_system_name;
CREATE UNIQUE INDEX ux_topics_user_name ON topics(user_id, name_key) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX ux_topics_system_name ON topics(name_key) WHERE user_id IS NULL;
