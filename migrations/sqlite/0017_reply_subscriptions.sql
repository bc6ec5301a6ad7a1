-- Readers who ticked "notify me of replies" under their comment. Nothing
-- but the confirmation is sent until the address's owner follows the link
-- in it (double opt-in). The token is in the confirmation and unsubscribe
-- links and in nothing else.
CREATE TABLE reply_subscriptions (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    unsubscribed_at INTEGER
);
CREATE INDEX reply_subscriptions_comment ON reply_subscriptions (comment_id);
CREATE INDEX reply_subscriptions_email ON reply_subscriptions (email);
