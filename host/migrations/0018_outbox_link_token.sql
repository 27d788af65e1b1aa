-- The secret part of a link in a notification (a survey token), kept out of `body` so that
-- no API reply, log line or agent ever sees it: the body holds `{link-token}` where it
-- goes, and the delivery worker puts it in as it sends.
ALTER TABLE outbox ADD COLUMN link_token TEXT;
