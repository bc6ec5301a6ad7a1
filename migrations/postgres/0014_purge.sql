-- Whether a server has sent this row's cache tags to the CDN's purge
-- webhook (0: not yet). A server claims rows by setting it, so that each
-- change is sent once however many servers run, and clears it again when
-- the call failed, so that the next try sends it.
ALTER TABLE cache_invalidations ADD COLUMN purged INTEGER NOT NULL DEFAULT 0;
