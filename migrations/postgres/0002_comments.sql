-- Reader comments and the site's discussion settings.

CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    author_name TEXT NOT NULL,
    -- Never shown publicly; kept for moderation, "previously approved" and privacy requests.
    author_email TEXT NOT NULL,
    author_url TEXT,
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'spam', 'trash')),
    -- Why it is held or spam, for the moderator.
    reason TEXT,
    spam_score DOUBLE PRECISION,
    is_staff BIGINT NOT NULL DEFAULT 0,
    -- Purged after the retention period.
    ip TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    status_changed_at BIGINT NOT NULL
);

CREATE INDEX comments_by_article ON comments (article_id, status, id);
CREATE INDEX comments_by_email ON comments (author_email, status);
CREATE INDEX comments_by_article_author ON comments (article_id, author_email);
CREATE INDEX comments_by_ip ON comments (ip, created_at);
CREATE INDEX comments_by_status ON comments (status, created_at);

ALTER TABLE articles ADD COLUMN comment_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
