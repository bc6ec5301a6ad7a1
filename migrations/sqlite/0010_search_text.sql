-- The search index now holds the text readers see (Markdown taken out):
-- emptied here, it is filled again at start-up (Store::index_missing_articles).
DELETE FROM article_search;
-- Whether a match is public, read without the article's row (whose body
-- spans several pages): a search checks every match.
CREATE INDEX articles_public ON articles (id, kind, status, published_at);
