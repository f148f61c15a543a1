-- The colours go; nothing else is lost.
ALTER TABLE topics DROP COLUMN color;
