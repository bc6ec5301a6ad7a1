-- The spam engine: API keys for sites using the Akismet-compatible API, and
-- every moderator's lesson, so that no decision is lost on restart.

CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    -- The site ("blog") the key belongs to.
    site_url TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- A lesson teaches one site's copy of the model: site 0 is this Broadsheet
-- site's own comments, others are API keys. Only what the model reads is
-- kept: the text and the context features, never an email or IP address.
CREATE TABLE spam_lessons (
    id BIGSERIAL PRIMARY KEY,
    site BIGINT NOT NULL,
    is_spam BIGINT NOT NULL,
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX spam_lessons_by_site ON spam_lessons (site, id);
