-- Moving house: what was brought over from another platform, so that a second
-- import of the same export changes nothing and a later one only what changed,
-- and so that the old addresses can be sent to the new ones.
CREATE TABLE imported (
    -- The exporting site (its base address).
    origin TEXT NOT NULL,
    -- author, category, tag, post, page, attachment, comment.
    kind TEXT NOT NULL,
    -- Its identifier there (a WordPress id; an author's login).
    source_id TEXT NOT NULL,
    -- Its row here, in the table its kind names.
    local_id INTEGER NOT NULL,
    -- A digest of the item as it was imported: a changed item differs.
    digest TEXT NOT NULL,
    -- Its address there, when it had one.
    old_url TEXT,
    PRIMARY KEY (origin, kind, source_id)
);
CREATE INDEX imported_by_local ON imported (kind, local_id);

-- Pages may sit under a parent page; a sticky article leads the front page;
-- a note tells the newsroom what became of an item (for example a post that
-- was pending review or private on the old site).
ALTER TABLE articles ADD COLUMN parent_id INTEGER REFERENCES articles (id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN sticky INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN admin_note TEXT;
