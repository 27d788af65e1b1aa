//! HTTPS on 127.0.0.1 for tests, with a certificate issued by the test CA
//! (`tests/fixtures/tls`): webhook receivers, and a TLS front for a test node, as an
//! operator's reverse proxy would be.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A file of the test TLS fixtures: `ca.pem`, `server.pem`, `server.key`.
pub fn fixture(name: &str) -> PathBuf {
    crate::repo_root().join("tests/fixtures/tls").join(name)
}

/// A TCP listener on 127.0.0.1 that serves TLS with the test certificate.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub async fn bind() -> TlsListener {
        let chain = CertificateDer::pem_file_iter(fixture("server.pem"))
            .expect("the server certificate")
            .collect::<Result<Vec<_>, _>>()
            .expect("PEM certificates");
        let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("the key");
        axle_host::tls::install_provider();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("a certificate and its key");
        TlsListener {
            tcp: TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0"),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client that does not trust the certificate ends its handshake: the next.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Terminates TLS in front of the plain-HTTP server at `upstream` and forwards the bytes:
/// the `https://127.0.0.1:<port>` URL it answers on.
pub async fn front(upstream: &str) -> String {
    let mut listener = TlsListener::bind().await;
    let addr = axum::serve::Listener::local_addr(&listener).expect("the front's address");
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    tokio::spawn(async move {
        loop {
            let (mut tls, _) = axum::serve::Listener::accept(&mut listener).await;
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut plain) = TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    format!("https://{addr}")
}
