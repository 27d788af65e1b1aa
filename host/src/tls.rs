//! Outbound HTTPS: every HTTP client of the process (webhook delivery, the `axle plugin`
//! commands) speaks TLS through rustls with the *ring* crypto provider, and trusts the
//! operating system's roots plus any an operator adds (`AXLE_WEBHOOK_CA`).
//!
//! reqwest is built without a provider of its own (its default, aws-lc-rs, is a large C
//! build), so one is installed for the process before the first client is built.

use std::path::Path;
use std::sync::Once;

/// Installs *ring* as the process's rustls provider, once; a provider another part of
/// the process installed first is kept.
pub fn install_provider() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange
        // (X25519MLKEM768), which only aws-lc-rs offers. Webhooks carry notifications for
        // seconds, not secrets for decades, and aws-lc-rs would add a C build to every
        // clean CI run; the classical suites ring offers are the ones TLS 1.3 requires.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let _ = provider.install_default();
    });
}

/// A client builder whose TLS uses the process's provider; build every reqwest client
/// from one of these.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_provider();
    reqwest::Client::builder()
}

/// A client with the defaults, for the CLI.
pub fn client() -> reqwest::Client {
    client_builder()
        .build()
        .expect("a TLS client builds with the process's provider and the system roots")
}

/// The TLS failure behind a request error, if that is why it failed: an untrusted or
/// expired certificate, a name it does not cover.
pub fn handshake_error(err: &reqwest::Error) -> Option<&rustls::Error> {
    cause(err)
}

/// The error of type `T` behind a request error, if any: a connector's, a resolver's.
/// Those travel inside io::Errors (nested, as hyper wraps the connector's), whose
/// `source` skips what they wrap, so each io::Error is looked into as well.
pub fn cause<T: std::error::Error + 'static>(err: &reqwest::Error) -> Option<&T> {
    fn find<'a, T: std::error::Error + 'static>(
        err: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a T> {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        let wrapped = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| find(inner));
        wrapped.or_else(|| err.source().and_then(find))
    }
    std::error::Error::source(err).and_then(find)
}

/// Certificate authorities trusted besides the system's, read from a PEM file of one or
/// more certificates: an operator's private CA for receivers on its own network.
#[derive(Clone, Debug, Default)]
pub struct ExtraRoots(Vec<reqwest::Certificate>);

impl ExtraRoots {
    /// Reads the PEM bundle at `path`; fails with what was wrong, naming the file.
    pub fn read(path: &Path) -> Result<ExtraRoots, String> {
        let pem = std::fs::read(path)
            .map_err(|err| format!("cannot read CA file {}: {err}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
            format!(
                "{} is not a PEM file of certificates: {err}",
                path.display()
            )
        })?;
        if certificates.is_empty() {
            return Err(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ));
        }
        Ok(ExtraRoots(certificates))
    }

    /// The clap value parser for a CA file argument.
    pub fn parse(path: &str) -> Result<ExtraRoots, String> {
        Self::read(Path::new(path))
    }

    /// `builder`, trusting these roots as well as the system's.
    pub fn trusted_by(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if self.0.is_empty() {
            builder
        } else {
            builder.tls_certs_merge(self.0.iter().cloned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let error = ExtraRoots::read(&missing).unwrap_err();
        assert!(
            error.starts_with("cannot read CA file") && error.contains("missing.pem"),
            "{error}"
        );

        let text = dir.path().join("notes.pem");
        std::fs::write(&text, "just some notes\n").unwrap();
        let error = ExtraRoots::read(&text).unwrap_err();
        assert!(
            error.contains("notes.pem") && error.contains("BEGIN CERTIFICATE"),
            "{error}"
        );

        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = ExtraRoots::read(&broken).unwrap_err();
        assert!(error.contains("broken.pem"), "{error}");
    }

    #[test]
    fn the_test_ca_is_read_and_trusted_by_a_client_that_builds() {
        let ca =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tls/ca.pem");
        let roots = ExtraRoots::read(&ca).unwrap();
        assert_eq!(roots.0.len(), 1);
        roots.trusted_by(client_builder()).build().unwrap();
    }
}
