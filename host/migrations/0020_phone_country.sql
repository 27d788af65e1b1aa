-- The country a phone number written without its country code belongs to, per tenant.
-- Numbers are kept in E.164 from now on; the node rewrites older national-format numbers
-- at startup (`service::customers::phones_to_e164`), with each tenant's country.
ALTER TABLE tenant_settings ADD COLUMN phone_country TEXT NOT NULL DEFAULT 'CN';
