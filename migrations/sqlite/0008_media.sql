-- The media library: every uploaded image, with the words that go with it.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    -- /media/{name}; the name carries a hash of the content.
    url TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    alt TEXT NOT NULL,
    caption TEXT NOT NULL DEFAULT '',
    credit TEXT NOT NULL DEFAULT '',
    uploaded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX media_by_time ON media (created_at);
