-- A message the mail server refused for good (a 5xx answer, three times) or
-- that could not be sent for three days: kept with its last error for the
-- operator, never tried again, forgotten with the sent ones after 30 days.
ALTER TABLE mail_outbox ADD COLUMN failed_at BIGINT;
