-- The telephony call a hotline ticket was opened for, so a retried intake finds it.
ALTER TABLE tickets ADD COLUMN intake_call_id TEXT;
CREATE UNIQUE INDEX tickets_call ON tickets (tenant_id, intake_call_id);
