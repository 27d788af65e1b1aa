-- The startup rewrite of national-format phone numbers to E.164
-- (`service::customers::phones_to_e164`) looks for `phone NOT LIKE '+%'` on every start.
-- Without an index that is a scan of every customer and agent; with these partial indexes
-- it reads only the rows still to rewrite (none once done, a few unreadable ones at most).
-- New numbers are always E.164, so the indexes stay empty and cost writes nothing.
CREATE INDEX customers_national_phone ON customers (id) WHERE phone NOT LIKE '+%';
CREATE INDEX agents_national_phone ON agents (id) WHERE phone NOT LIKE '+%';
