-- A manual assignment that has taught its owner's model (so a later change can unteach it).
ALTER TABLE document_topics ADD COLUMN trained SMALLINT NOT NULL DEFAULT 0;

-- Topics the classifier found likely but not certain enough to assign: the document
-- "needs a topic" and the user confirms or changes these.
CREATE TABLE document_suggestions (
	document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
	topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	confidence REAL NOT NULL,
	PRIMARY KEY (document_id, topic_id)
);
CREATE INDEX ix_document_suggestions_topic ON document_suggestions(topic_id);

-- Each user's own naive Bayes model: how often a term occurred in the documents the user
-- put in a topic, and per topic how many documents and terms taught it. Counts only ever
-- change by addition (n = n + ?), so concurrent corrections on any replica add up.
CREATE TABLE topic_terms (
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	term TEXT NOT NULL,
	topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	n BIGINT NOT NULL,
	PRIMARY KEY (user_id, term, topic_id)
);
CREATE INDEX ix_topic_terms_topic ON topic_terms(topic_id);

CREATE TABLE topic_stats (
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	docs BIGINT NOT NULL,
	terms BIGINT NOT NULL,
	PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX ix_topic_stats_topic ON topic_stats(topic_id);
