-- For staff who chose a daily digest of held and caught comments: the end of
-- the period the last digest covered (or when they chose the digest). A
-- server claims a digest by moving it forward, so each is sent once.
ALTER TABLE users ADD COLUMN digest_through BIGINT;
