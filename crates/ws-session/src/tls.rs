//! TLS configuration through rustls with the `ring` provider chosen
//! explicitly, so no build of ours depends on a process-wide default provider
//! being installed (which panics at run time when it is missing or
//! ambiguous). Shared by the adapters: `tokio-rustls` and `futures-rustls`
//! both take these configs, so `wss://` trusts the same roots everywhere.

use std::sync::Arc;

use rustls::{ClientConfig, ServerConfig};

/// The crypto provider every TLS config of this crate is built with.
#[must_use]
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The default client TLS config: the `ring` provider, safe protocol
/// versions, the Mozilla roots of `webpki-roots`, and ALPN `http/1.1`.
#[must_use]
pub fn default_client_config() -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    client_config_with_roots(roots)
}

/// A client TLS config that trusts exactly `roots` (for private CAs and
/// tests), built like [`default_client_config`].
///
/// # Panics
/// Never: the `ring` provider supports the default protocol versions (the
/// `expect` documents that invariant).
#[must_use]
pub fn client_config_with_roots(roots: rustls::RootCertStore) -> Arc<ClientConfig> {
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A server TLS config from a certificate chain and its private key, with
/// the `ring` provider.
pub fn server_config(
    chain: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The TLS server name for `host` (a DNS name or an IP address, without
/// brackets), as an IO error when `host` is neither, so that the connect
/// flow reports it as a TLS failure naming the host.
pub fn server_name(host: String) -> std::io::Result<rustls_pki_types::ServerName<'static>> {
    rustls_pki_types::ServerName::try_from(host).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a valid TLS server name: {e}"),
        )
    })
}
