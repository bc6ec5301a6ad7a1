-- Full-text search over articles and pages: one row per article with its
-- headline, standfirst, body text, tags and author, and a weighted document
-- of the same text with diacritics folded (by the application, so that both
-- databases find the same articles), kept up to date by every save.
CREATE TABLE article_search (
    article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    headline TEXT NOT NULL,
    standfirst TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    author TEXT NOT NULL,
    document TSVECTOR NOT NULL
);
CREATE INDEX article_search_document ON article_search USING GIN (document);
-- Filled at start-up from the articles (Store::index_missing_articles).
