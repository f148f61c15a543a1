-- A topic's colour, "#rrggbb" as its owner (or an admin, for system topics) picked it;
-- empty: the UI's default colour.
ALTER TABLE topics ADD COLUMN color TEXT NOT NULL DEFAULT '';
