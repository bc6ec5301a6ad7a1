-- Editing in the admin: who created an article (authors and contributors may
-- edit only their own), and a version that every save moves on, so that a
-- save made from an older copy is refused instead of overwriting.
ALTER TABLE articles ADD COLUMN created_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
