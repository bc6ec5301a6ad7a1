-- Full-text search over articles and pages: one row per article (rowid = its
-- id) with its headline, standfirst, body text, tags and author, kept up to
-- date by every save. Diacritics are folded by the tokenizer ("Ibáñez" finds
-- "ibanez" and back).
CREATE VIRTUAL TABLE article_search USING fts5(
    headline, standfirst, body, tags, author,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Filled at start-up from the articles (Store::index_missing_articles).
