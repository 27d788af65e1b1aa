//! A small key-value store private to this installation in this tenant. Needs the `kv` grant;
//! without it every call fails with `Error::Denied`.

use crate::Error;
use crate::wit::plugin::kv as host;

/// Reads a value; `None` when the key is not set.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    host::get(key)
}

/// Writes a value. Keys are 1–256 bytes, values at most 64 KiB, at most 1,000 keys.
pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    host::set(key, value)
}

/// Deletes a key; deleting a missing key is not an error.
pub fn delete(key: &str) -> Result<(), Error> {
    host::delete(key)
}

/// Lists the keys starting with `prefix`, in order.
pub fn list_keys(prefix: &str) -> Result<Vec<String>, Error> {
    host::list_keys(prefix)
}
