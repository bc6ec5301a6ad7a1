-- The search index now holds the text readers see (Markdown taken out):
-- emptied here, it is filled again at start-up (Store::index_missing_articles).
DELETE FROM article_search;
