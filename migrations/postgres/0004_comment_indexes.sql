-- Indexes for posting a comment without scanning an article's whole thread.

-- Where a new comment lands in the thread (which comment page): a count of
-- the approved top-level comments before it, read from the index alone.
CREATE INDEX comments_top_level ON comments (article_id, status, id) WHERE parent_id IS NULL;

-- The spam recently sent from an IP address, counted without reading every
-- comment that address ever sent.
CREATE INDEX comments_by_ip_status ON comments (ip, status, created_at);

-- Approved top-level comments per article, kept by every write that changes
-- them: a new top-level comment knows its comment page without a count.
ALTER TABLE articles ADD COLUMN top_level_count BIGINT NOT NULL DEFAULT 0;
UPDATE articles SET top_level_count =
    (SELECT COUNT(*) FROM comments c WHERE c.article_id = articles.id AND c.parent_id IS NULL AND c.status = 'approved');
