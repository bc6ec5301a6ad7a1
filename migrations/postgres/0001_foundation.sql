-- Foundation schema: people, taxonomy, articles and pages, revisions,
-- and the cache-invalidation log shared by every process that writes.
-- Timestamps are Unix seconds (BIGINT) so the same queries run on
-- SQLite and PostgreSQL.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'editor', 'author', 'contributor')),
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE authors (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE categories (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id BIGINT REFERENCES categories (id) ON DELETE SET NULL
);

CREATE TABLE tags (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE articles (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('article', 'page')),
    slug TEXT NOT NULL,
    headline TEXT NOT NULL,
    standfirst TEXT NOT NULL DEFAULT '',
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    author_id BIGINT REFERENCES authors (id) ON DELETE SET NULL,
    agency TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    image_src TEXT,
    image_alt TEXT,
    image_caption TEXT,
    image_credit TEXT,
    image_width BIGINT,
    image_height BIGINT,
    comments_open BIGINT NOT NULL DEFAULT 1,
    UNIQUE (kind, slug)
);

CREATE INDEX articles_listing ON articles (kind, status, published_at);

CREATE TABLE article_categories (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (article_id, category_id)
);

CREATE INDEX article_categories_by_category ON article_categories (category_id);

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (article_id, tag_id)
);

CREATE INDEX article_tags_by_tag ON article_tags (tag_id);

CREATE TABLE revisions (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    headline TEXT NOT NULL,
    standfirst TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    saved_at BIGINT NOT NULL
);

CREATE INDEX revisions_by_article ON revisions (article_id, saved_at);

-- Every write that changes what a public page shows appends the cache tags
-- it touches here, in the same transaction. Servers apply rows newer than
-- the last one they saw; `due_at` delays a row until a scheduled article
-- goes live.
CREATE TABLE cache_invalidations (
    id BIGSERIAL PRIMARY KEY,
    tag TEXT NOT NULL,
    due_at BIGINT NOT NULL
);

CREATE TABLE site_flags (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
