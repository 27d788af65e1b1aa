//! Compiled components on disk, so a restart deserializes (well under a millisecond for a
//! small component) instead of compiling (tens of milliseconds to seconds).
//!
//! An entry is keyed by the component's sha256 and the engine's compatibility key: a
//! wasmtime upgrade or a config change puts entries in another directory, where the old
//! ones are never looked at. Deserializing trusts its input, so each entry carries a
//! header binding it to its source and engine, with the sha256 of the artifact; an entry
//! whose header does not check out (a flipped byte, a truncated write, a file copied in
//! from elsewhere) is deleted and the caller compiles again. Entries are written to a
//! temporary file and renamed into place, so a crash or a second process never leaves a
//! half-written entry under the real name.
//!
//! The checksum guards against corruption, not against someone who can write to the
//! cache directory: they could write a matching checksum too, and they can already
//! replace the binary beside it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::engine;

/// The first bytes of every entry; bump the digit when the header changes.
const MAGIC: &[u8; 8] = b"AXLECW01";
/// Magic, source sha256, engine key, artifact sha256, artifact length.
const HEADER_LEN: usize = 8 + 32 + 32 + 32 + 8;

/// Why an entry on disk was not used.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("the header is missing or not ours")]
    Header,
    #[error("it belongs to another component")]
    Source,
    #[error("it was compiled by an incompatible engine")]
    Engine,
    #[error("it is truncated or has trailing bytes")]
    Length,
    #[error("its checksum does not match (corrupted or tampered with)")]
    Checksum,
    #[error("wasmtime could not deserialize it: {0}")]
    Deserialize(String),
}

/// What a disk look-up found.
pub enum Lookup {
    Hit(Component),
    Miss,
    /// There was an entry, but it was unusable and has been deleted.
    Rejected(Rejected),
}

/// A directory of compiled components for one engine configuration.
pub struct CompiledCache {
    /// `<root>/engine-<first 16 hex digits of the engine key>`.
    dir: PathBuf,
    engine_key: [u8; 32],
}

impl CompiledCache {
    /// Opens (creating it if needed) the cache under `root` for `engine`.
    pub fn open(root: &Path, engine: &Engine) -> std::io::Result<CompiledCache> {
        let engine_key = engine::compatibility_key(engine);
        let dir = root.join(format!("engine-{}", &hex::encode(engine_key)[..16]));
        std::fs::create_dir_all(&dir)?;
        Ok(CompiledCache { dir, engine_key })
    }

    /// The directory this engine's entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file for the component with `sha256` (lower-case hex).
    pub fn entry_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.cwasm"))
    }

    /// Reads, checks and deserializes the entry for `sha256`. An unusable entry is deleted
    /// (with a warning) so the caller's recompile can write a good one.
    pub fn get(&self, engine: &Engine, sha256: &str) -> Lookup {
        let path = self.entry_path(sha256);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "cannot read compiled component; compiling again");
                return Lookup::Miss;
            }
        };
        let checked = self.check(sha256, &bytes).and_then(|artifact| {
            // SAFETY: the artifact's sha256 matches the one this cache wrote beside it when
            // it serialized a component compiled by an engine with the same compatibility
            // key, so these are the bytes `Component::serialize` produced.
            unsafe { Component::deserialize(engine, artifact) }
                .map_err(|err| Rejected::Deserialize(format!("{err:#}")))
        });
        match checked {
            Ok(component) => Lookup::Hit(component),
            Err(rejected) => {
                tracing::warn!(path = %path.display(), reason = %rejected, "discarding compiled component; compiling again");
                if let Err(err) = std::fs::remove_file(&path)
                    && err.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %path.display(), error = %err, "cannot delete the bad entry");
                }
                Lookup::Rejected(rejected)
            }
        }
    }

    /// The artifact inside `entry`, if its header binds it to `sha256`, this engine and
    /// its own checksum.
    fn check<'e>(&self, sha256: &str, entry: &'e [u8]) -> Result<&'e [u8], Rejected> {
        if entry.len() < HEADER_LEN || &entry[..8] != MAGIC {
            return Err(Rejected::Header);
        }
        let (header, artifact) = entry.split_at(HEADER_LEN);
        if hex::decode(sha256).ok().as_deref() != Some(&header[8..40]) {
            return Err(Rejected::Source);
        }
        if header[40..72] != self.engine_key {
            return Err(Rejected::Engine);
        }
        let length = u64::from_le_bytes(header[104..112].try_into().expect("8 bytes"));
        if u64::try_from(artifact.len()).ok() != Some(length) {
            return Err(Rejected::Length);
        }
        if Sha256::digest(artifact)[..] != header[72..104] {
            return Err(Rejected::Checksum);
        }
        Ok(artifact)
    }

    /// Writes `component`'s compiled form as the entry for `sha256`. Failing to write is
    /// logged and otherwise ignored: the cache only saves time.
    pub fn put(&self, sha256: &str, component: &Component) {
        let written = component
            .serialize()
            .map_err(|err| format!("{err:#}"))
            .and_then(|artifact| {
                self.write_entry(sha256, &artifact)
                    .map_err(|err| err.to_string())
            });
        if let Err(err) = written {
            tracing::warn!(sha256, error = %err, "cannot write the compiled component to the cache");
        }
    }

    fn write_entry(&self, sha256: &str, artifact: &[u8]) -> std::io::Result<()> {
        let source = hex::decode(sha256)
            .ok()
            .filter(|source| source.len() == 32)
            .ok_or_else(|| std::io::Error::other(format!("`{sha256}` is not a sha256")))?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&source);
        header.extend_from_slice(&self.engine_key);
        header.extend_from_slice(&Sha256::digest(artifact));
        header.extend_from_slice(&(artifact.len() as u64).to_le_bytes());

        // Unique per process and per write, so concurrent writers never share a temp file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let temp = self.dir.join(format!(
            ".{sha256}.{}.{}.tmp",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&header)?;
            file.write_all(artifact)?;
            // No fsync: if a crash leaves the renamed file short or garbled, the length
            // and checksum catch it on the next read, and it is rebuilt.
            std::fs::rename(&temp, self.entry_path(sha256))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component there is: the preamble alone.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn setup() -> (tempfile::TempDir, CompiledCache, Engine, String, Component) {
        let engine = engine::shared().engine.clone();
        let root = tempfile::tempdir().expect("temp dir");
        let cache = CompiledCache::open(root.path(), &engine).expect("open the cache");
        let component = Component::new(&engine, EMPTY_COMPONENT).expect("compile");
        let sha256 = hex::encode(Sha256::digest(EMPTY_COMPONENT));
        (root, cache, engine, sha256, component)
    }

    fn rejected(lookup: Lookup) -> Rejected {
        match lookup {
            Lookup::Rejected(rejected) => rejected,
            Lookup::Hit(_) => panic!("expected a rejected entry, got a hit"),
            Lookup::Miss => panic!("expected a rejected entry, got a miss"),
        }
    }

    #[test]
    fn a_written_entry_is_read_back() {
        let (_root, cache, engine, sha256, component) = setup();
        assert!(matches!(cache.get(&engine, &sha256), Lookup::Miss));
        cache.put(&sha256, &component);
        assert!(matches!(cache.get(&engine, &sha256), Lookup::Hit(_)));
        let leftovers = std::fs::read_dir(cache.dir())
            .expect("list the cache")
            .filter(|entry| {
                entry
                    .as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .count();
        assert_eq!(leftovers, 0, "no temporary files are left behind");
    }

    #[test]
    fn a_flipped_artifact_byte_is_caught_by_the_checksum_and_the_entry_deleted() {
        let (_root, cache, engine, sha256, component) = setup();
        cache.put(&sha256, &component);
        let path = cache.entry_path(&sha256);
        let mut bytes = std::fs::read(&path).expect("read the entry");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).expect("tamper");

        assert!(matches!(
            rejected(cache.get(&engine, &sha256)),
            Rejected::Checksum
        ));
        assert!(!path.exists(), "the bad entry is deleted");
    }

    #[test]
    fn a_truncated_entry_is_rejected() {
        let (_root, cache, engine, sha256, component) = setup();
        cache.put(&sha256, &component);
        let path = cache.entry_path(&sha256);
        let bytes = std::fs::read(&path).expect("read the entry");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
        assert!(matches!(
            rejected(cache.get(&engine, &sha256)),
            Rejected::Length
        ));

        cache.put(&sha256, &component);
        std::fs::write(&path, &bytes[..20]).expect("truncate into the header");
        assert!(matches!(
            rejected(cache.get(&engine, &sha256)),
            Rejected::Header
        ));
    }

    #[test]
    fn an_entry_from_another_engine_or_component_is_rejected() {
        let (_root, cache, engine, sha256, component) = setup();
        cache.put(&sha256, &component);
        let path = cache.entry_path(&sha256);
        let good = std::fs::read(&path).expect("read the entry");

        let mut other_engine = good.clone();
        other_engine[40] ^= 1;
        std::fs::write(&path, other_engine).expect("write");
        assert!(matches!(
            rejected(cache.get(&engine, &sha256)),
            Rejected::Engine
        ));

        let other = "0".repeat(64);
        std::fs::write(cache.entry_path(&other), &good).expect("copy under another name");
        assert!(matches!(
            rejected(cache.get(&engine, &other)),
            Rejected::Source
        ));
    }

    #[test]
    fn another_engine_configuration_uses_another_directory() {
        let shared = engine::shared().engine.clone();
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        // No epoch interruption: compiled code without the checks is not interchangeable.
        let other = Engine::new(&config).expect("engine");
        let root = tempfile::tempdir().expect("temp dir");
        let ours = CompiledCache::open(root.path(), &shared).expect("open");
        let theirs = CompiledCache::open(root.path(), &other).expect("open");
        assert_ne!(ours.dir(), theirs.dir());
    }

    #[test]
    fn a_header_that_checks_out_over_garbage_fails_to_deserialize_and_is_deleted() {
        let (_root, cache, engine, sha256, _component) = setup();
        cache
            .write_entry(&sha256, b"not an ELF image at all")
            .expect("write");
        assert!(matches!(
            rejected(cache.get(&engine, &sha256)),
            Rejected::Deserialize(_)
        ));
        assert!(!cache.entry_path(&sha256).exists());
    }
}
