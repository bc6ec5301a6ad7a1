-- Which of this site's comments a lesson came from (none for lessons sent
-- through the spam API), so that a commenter's privacy request — export or
-- erase — reaches the copy of their words the spam filter keeps.
ALTER TABLE spam_lessons ADD COLUMN comment_id BIGINT;
CREATE INDEX spam_lessons_by_comment ON spam_lessons (comment_id);
