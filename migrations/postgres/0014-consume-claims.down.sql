-- Consume folders lose their claims; files still in the folders are taken again.
DROP TABLE consume_claims;
