-- The classification queue and the pending uploads were indexed by (status, …) over every
-- document, so every new version of any row (a rename, a classification) added an entry to
-- both, and the queue's claim, ordered by next_attempt_at then id, read every queued
-- document and sorted them to take the first. Each index now holds only the rows it serves,
-- in the claim's (and the expiry's) own order: a claim reads from the front of the queue
-- and stops at the first document it may take. A queued document is due from its
-- next_attempt_at, which every way into the queue sets; documents queued before 0005 added
-- it are due since their upload.
UPDATE documents SET next_attempt_at = COALESCE(uploaded_at, created_at) WHERE status = 'uploaded' AND next_attempt_at IS NULL;
DROP INDEX ix_documents_queue;
CREATE INDEX ix_documents_queue ON documents (next_attempt_at, id) WHERE status = 'uploaded';
DROP INDEX ix_documents_pending;
CREATE INDEX ix_documents_pending ON documents (created_at) WHERE status = 'pending';
