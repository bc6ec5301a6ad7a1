-- The search index is a set of b-trees ("segments") that FTS5 merges as
-- articles are saved; a search reads every one of them. With 'usermerge' at
-- 2, the 'merge' command run by Store::tidy_search_index merges any two
-- segments of a level, so the small ones that single saves leave behind
-- become one.
INSERT INTO article_search (article_search, rank) VALUES ('usermerge', 2);
