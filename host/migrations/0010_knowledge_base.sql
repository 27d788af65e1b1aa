-- Knowledge-base (FAQ) articles per tenant. `search_text` holds the title, tags and body
-- normalised (lowercased, full-width ASCII folded) so that both SQLite and PostgreSQL can
-- pre-filter a search with plain LIKE; ranking happens in the application.

CREATE TABLE kb_articles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    tags TEXT NOT NULL,
    status TEXT NOT NULL,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kb_articles_tenant ON kb_articles (tenant_id, id);
CREATE INDEX kb_articles_tenant_status ON kb_articles (tenant_id, status, id);
