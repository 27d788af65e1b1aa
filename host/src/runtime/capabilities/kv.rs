//! `kv`: a key-value namespace per tenant and installation.

use super::super::sandbox::{HostAccess, Sandbox};
use super::super::wit::{kv::Host, types};
use super::unavailable;
use crate::domain::plugin::Capability;
use crate::store::kv as store;

const MAX_KEY_BYTES: usize = 256;
const MAX_VALUE_BYTES: usize = 64 << 10;
const MAX_KEYS: i64 = 1_000;

impl Sandbox {
    /// The host access for a granted `kv` call, or the error the guest sees.
    fn kv_access(&self) -> Result<(&HostAccess, &str, &str), types::Error> {
        if let Some(denied) = self.call.check_grant(Capability::Kv) {
            return Err(denied);
        }
        let host = self
            .host
            .as_ref()
            .ok_or_else(|| types::Error::Unavailable("kv has no storage in this run".to_owned()))?;
        Ok((host, &self.call.tenant_id, &self.call.installation_id))
    }
}

fn check_key(key: &str) -> Result<(), types::Error> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(types::Error::InvalidInput(format!(
            "a kv key has 1 to {MAX_KEY_BYTES} bytes, this one has {}",
            key.len()
        )));
    }
    Ok(())
}

impl Host for Sandbox {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, types::Error>> {
        Ok((|| {
            let (host, tenant, installation) = self.kv_access()?;
            host.block_on(store::get(&host.db, tenant, installation, &key))
                .map_err(|err| unavailable("kv", err))
        })())
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), types::Error>> {
        Ok((|| {
            let (host, tenant, installation) = self.kv_access()?;
            check_key(&key)?;
            if value.len() > MAX_VALUE_BYTES {
                return Err(types::Error::LimitExceeded(format!(
                    "a kv value has at most {MAX_VALUE_BYTES} bytes, this one has {}",
                    value.len()
                )));
            }
            let outcome = host
                .block_on(store::set(
                    &host.db,
                    tenant,
                    installation,
                    &key,
                    &value,
                    MAX_KEYS,
                ))
                .map_err(|err| unavailable("kv", err))?;
            match outcome {
                store::SetOutcome::Stored => Ok(()),
                store::SetOutcome::TooManyKeys => Err(types::Error::LimitExceeded(format!(
                    "this installation already has {MAX_KEYS} kv keys; delete some first"
                ))),
            }
        })())
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), types::Error>> {
        Ok((|| {
            let (host, tenant, installation) = self.kv_access()?;
            host.block_on(store::delete(&host.db, tenant, installation, &key))
                .map_err(|err| unavailable("kv", err))
        })())
    }

    fn list_keys(&mut self, prefix: String) -> wasmtime::Result<Result<Vec<String>, types::Error>> {
        Ok((|| {
            let (host, tenant, installation) = self.kv_access()?;
            host.block_on(store::list_keys(&host.db, tenant, installation, &prefix))
                .map_err(|err| unavailable("kv", err))
        })())
    }
}
