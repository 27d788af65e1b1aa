//! Uploaded plugin versions (immutable) and their component bytes, content-addressed
//! by sha256.
//!
//! Component bytes live in `component_blobs`, keyed only by their hash: identical bytes
//! uploaded by two tenants are stored once. A blob holds no tenant data and is reachable
//! only through a tenant's own `plugin_versions` row.

use sqlx::Row;

use super::{StoreError, json_column};
use crate::db::{Arg, Db};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};
use crate::domain::plugin::{Capability, PluginFilter, PluginVersion, RequestedLimits, World};

struct VersionRow {
    id: String,
    name: String,
    version: String,
    world: String,
    wit_version: String,
    description: String,
    capabilities: String,
    config_schema: Option<String>,
    limits: String,
    sha256: String,
    size_bytes: i64,
    created_at: i64,
}

crate::store::from_row!(VersionRow => PluginVersion, from "plugin_versions" {
    id,
    name,
    version,
    world,
    wit_version,
    description,
    capabilities,
    config_schema,
    limits,
    sha256,
    size_bytes,
    created_at
});

impl VersionRow {
    fn into_domain(self) -> Result<PluginVersion, StoreError> {
        Ok(PluginVersion {
            world: World::parse(&self.world)
                .ok_or_else(|| StoreError::Corrupt(format!("plugin world `{}`", self.world)))?,
            capabilities: json_column("plugin_versions.capabilities", &self.capabilities)?,
            config_schema: self
                .config_schema
                .as_deref()
                .map(|text| json_column("plugin_versions.config_schema", text))
                .transpose()?,
            limits: json_column("plugin_versions.limits", &self.limits)?,
            id: self.id,
            name: self.name,
            version: self.version,
            wit_version: self.wit_version,
            description: self.description,
            sha256: self.sha256,
            size_bytes: self.size_bytes,
            created_at: rfc3339(self.created_at),
        })
    }
}

/// Whether a new upload created the version or found the identical one already there.
#[derive(Debug)]
pub enum Stored {
    Created(PluginVersion),
    AlreadyThere(PluginVersion),
}

/// A checked upload, as the service hands it over: what the manifest says, the
/// manifest's own text (kept verbatim), and the component's bytes and digest.
pub struct Upload<'a> {
    pub name: &'a str,
    pub version: String,
    pub world: World,
    pub wit_version: &'a str,
    pub description: &'a str,
    pub capabilities: &'a [Capability],
    pub config_schema: Option<&'a serde_json::Value>,
    pub limits: RequestedLimits,
    pub manifest_text: &'a str,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
}

/// Stores the component bytes (once per hash) and the version row, in one transaction.
/// Re-uploading the same name@version with the same bytes is idempotent; with other bytes
/// it is a conflict, because versions are immutable.
pub async fn insert(db: &Db, tenant_id: &str, upload: &Upload<'_>) -> Result<Stored, StoreError> {
    let Upload {
        name,
        ref version,
        sha256,
        bytes,
        ..
    } = *upload;
    if let Some(existing) = get_by_name(db, tenant_id, name, version).await? {
        if existing.sha256 == sha256 {
            return Ok(Stored::AlreadyThere(existing));
        }
        return Err(StoreError::Conflict(format!(
            "{}@{} was already uploaded with different content (sha256 {}); versions are immutable, so bump the version",
            name, version, existing.sha256
        )));
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO component_blobs (sha256, size_bytes, bytes, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(bytes.len() as i64)
    .bind(bytes.to_vec())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let row = PluginVersion {
        id: new_id(),
        name: name.to_owned(),
        version: version.clone(),
        world: upload.world,
        wit_version: upload.wit_version.to_owned(),
        description: upload.description.to_owned(),
        capabilities: upload.capabilities.to_vec(),
        config_schema: upload.config_schema.cloned(),
        limits: upload.limits,
        sha256: sha256.to_owned(),
        size_bytes: bytes.len() as i64,
        created_at: rfc3339(now),
    };
    sqlx::query(
        "INSERT INTO plugin_versions (id, tenant_id, name, version, world, wit_version, description, \
         capabilities, config_schema, limits, manifest, sha256, size_bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&row.id)
    .bind(tenant_id)
    .bind(&row.name)
    .bind(&row.version)
    .bind(row.world.as_str())
    .bind(&row.wit_version)
    .bind(&row.description)
    .bind(serde_json::to_string(&row.capabilities).unwrap_or_default())
    .bind(row.config_schema.as_ref().map(|schema| schema.to_string()))
    .bind(serde_json::to_string(&row.limits).unwrap_or_default())
    .bind(upload.manifest_text)
    .bind(sha256)
    .bind(row.size_bytes)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|err| {
        StoreError::conflict_on_unique(err, || {
            format!("{name}@{version} was uploaded concurrently; retry to see it")
        })
    })?;
    tx.commit().await?;
    Ok(Stored::Created(row))
}

/// A version of the tenant by id.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<PluginVersion>, StoreError> {
    super::by_id::<VersionRow>(db, tenant_id, id).await
}

/// A version of the tenant by name and version.
pub async fn get_by_name(
    db: &Db,
    tenant_id: &str,
    name: &str,
    version: &str,
) -> Result<Option<PluginVersion>, StoreError> {
    super::select_optional::<VersionRow>(
        db.reader(),
        "WHERE tenant_id = $1 AND name = $2 AND version = $3",
        &[tenant_id, name, version],
    )
    .await
}

/// The newest-uploaded version of a plugin, when no version is named.
pub async fn latest(
    db: &Db,
    tenant_id: &str,
    name: &str,
) -> Result<Option<PluginVersion>, StoreError> {
    let mut versions = super::select_all::<VersionRow>(
        db.reader(),
        "WHERE tenant_id = $1 AND name = $2",
        &[tenant_id, name],
    )
    .await?;
    versions.sort_by_key(|v| semver::Version::parse(&v.version).ok());
    Ok(versions.pop())
}

/// The tenant's plugin versions, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &PluginFilter,
    page: &Page,
) -> Result<Paged<PluginVersion>, StoreError> {
    let mut sql = super::tenant_rows::<VersionRow>(tenant_id);
    sql.and_eq("name", filter.name.clone().map(Arg::Text))
        .and_eq(
            "world",
            filter.world.map(|w| Arg::Text(w.as_str().to_owned())),
        );
    super::select_page::<VersionRow>(db, sql, page).await
}

/// The component bytes for `sha256`.
pub async fn blob(db: &Db, sha256: &str) -> Result<Vec<u8>, StoreError> {
    let row = sqlx::query("SELECT bytes FROM component_blobs WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(db.reader())
        .await?
        .ok_or(StoreError::NotFound("component"))?;
    Ok(row.try_get("bytes")?)
}

/// The distinct (component sha256, world) pairs that some installation, in any tenant,
/// uses: what a starting node warms up. Across tenants on purpose; it returns only
/// content hashes and worlds, no tenant data.
pub async fn installed_components(db: &Db) -> Result<Vec<(String, World)>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT v.sha256, v.world FROM installations i \
         JOIN plugin_versions v ON v.id = i.plugin_version_id",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|row| {
            let world: String = row.try_get("world")?;
            let world = World::parse(&world)
                .ok_or_else(|| StoreError::Corrupt(format!("plugin world `{world}`")))?;
            Ok((row.try_get("sha256")?, world))
        })
        .collect()
}
