-- The index belongs to 0013-document-content, which drops it.
SELECT 1;
