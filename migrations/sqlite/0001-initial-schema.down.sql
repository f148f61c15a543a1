DROP TABLE sessions;
DROP TABLE document_topics;
DROP TABLE topics;
DROP TABLE documents;
DROP TABLE quotas;
DROP TABLE users;
