-- Outgoing mail. Every message is written here first and sent by a background
-- job, so that a slow or unreachable mail server never holds up a request and
-- no message is lost to a restart. A server claims a message by moving
-- next_attempt_at forward (a lease); a failed try moves it by the backoff.
CREATE TABLE mail_outbox (
    id BIGSERIAL PRIMARY KEY,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- The one-click unsubscribe address (List-Unsubscribe), for messages to readers.
    unsubscribe_url TEXT,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, sent_at);

-- What each member of staff is told: held and caught comments (each, a daily
-- digest, or nothing), and approved comments on their own articles.
ALTER TABLE users ADD COLUMN notify_moderation TEXT NOT NULL DEFAULT 'each'
    CHECK (notify_moderation IN ('each', 'digest', 'none'));
ALTER TABLE users ADD COLUMN notify_comments BIGINT NOT NULL DEFAULT 1;
