-- Old addresses of an imported site (a path, or a query address such as
-- "/?p=123"), answered with a 301 to where the thing they named lives now.
-- The target is a row, not an address, so that a later change of slug or
-- date is followed.
CREATE TABLE redirects (
    old TEXT PRIMARY KEY,
    -- article, category, tag, author or media.
    target_kind TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    hits BIGINT NOT NULL DEFAULT 0,
    last_hit_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX redirects_by_hits ON redirects (hits, old);
