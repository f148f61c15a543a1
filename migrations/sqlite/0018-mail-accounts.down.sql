-- Mail accounts and what they imported are forgotten; the documents stay.
DROP TABLE mail_parts;
DROP TABLE mail_messages;
DROP TABLE mail_accounts;
