-- Whether a row records a change to a discussion only (a comment added,
-- approved or removed: 1), rather than to what a page says (0). Servers may
-- keep answering with the page they have while one request renders it again;
-- a change to an article's own content drops its pages at once.
ALTER TABLE cache_invalidations ADD COLUMN discussion INTEGER NOT NULL DEFAULT 0;
