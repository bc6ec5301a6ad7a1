-- What each API key's site asked of the Akismet-compatible API, by month
-- ("YYYY-MM", UTC): comments answered as spam and as ham by comment-check,
-- and the moderators' corrections sent back (submit-spam: missed spam,
-- submit-ham: false positives). Servers add their counts every few seconds.
CREATE TABLE api_traffic (
    site BIGINT NOT NULL,
    month TEXT NOT NULL,
    spam BIGINT NOT NULL DEFAULT 0,
    ham BIGINT NOT NULL DEFAULT 0,
    missed_spam BIGINT NOT NULL DEFAULT 0,
    false_positives BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site, month)
);
