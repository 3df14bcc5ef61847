//! TLS through rustls (`futures-rustls`, over any futures-io stream, so
//! both adapters share it), with the `ring` provider chosen explicitly: no
//! build of ours depends on a process-wide default provider being
//! installed (which panics at run time when it is missing or ambiguous).
//!
//! Loading a certificate and its key from PEM files:
//!
//! ```no_run
//! let tls = ws_session::tls::server_config_from_pem(
//!     &std::fs::read("cert.pem")?,
//!     &std::fs::read("key.pem")?,
//! )?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::sync::{Arc, OnceLock};

use futures_io::{AsyncRead, AsyncWrite};
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// The crypto provider every TLS config of this crate is built with.
#[must_use]
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The default client TLS config: the `ring` provider, safe protocol
/// versions, the Mozilla roots of `webpki-roots`, and ALPN `http/1.1`.
///
/// One config for the whole process, built on first use: its session
/// cache is shared by every connection that uses it, so a second
/// connection to a server resumes the TLS session of the first (a
/// shorter handshake) instead of starting over.
#[must_use]
pub fn default_client_config() -> Arc<ClientConfig> {
    static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            client_config_with_roots(roots)
        })
        .clone()
}

/// A client TLS config that trusts exactly `roots` (for private CAs and
/// tests), built like [`default_client_config`]. Connections that share
/// the returned config resume each other's sessions.
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
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Why [`server_config_from_pem`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// The certificate file holds no `CERTIFICATE` block, or a broken one.
    #[error("no usable certificate in the PEM data: {0}")]
    Certificate(rustls_pki_types::pem::Error),
    /// The key file holds no private key (PKCS#8, PKCS#1 or SEC1), or a
    /// broken one.
    #[error("no usable private key in the PEM data: {0}")]
    Key(rustls_pki_types::pem::Error),
    /// rustls refused the pair (for example a key that does not match the
    /// certificate).
    #[error("the certificate and key do not make a TLS server config: {0}")]
    Config(#[from] rustls::Error),
}

/// A server TLS config from PEM text: `cert_pem` holds the certificate
/// chain (the server's certificate first), `key_pem` its private key (the
/// files `certbot` and `openssl` write).
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, PemError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(PemError::Certificate)?;
    if chain.is_empty() {
        return Err(PemError::Certificate(
            rustls_pki_types::pem::Error::NoItemsFound,
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(PemError::Key)?;
    Ok(server_config(chain, key)?)
}

/// The TLS server name for `host` (a DNS name or an IP address, without
/// brackets), as an IO error when `host` is neither, so that the connect
/// flow reports it as a TLS failure naming the host.
fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a valid TLS server name: {e}"),
        )
    })
}

/// The client side of a TLS handshake over `stream`, for `host` (a DNS
/// name or an IP address, without brackets), with `config` as it is (its
/// ALPN list included): the TLS step of the connectors, for crates that
/// build flows of their own (ws-h2 offers `h2` in ALPN).
///
/// # Errors
/// `host` is not a valid server name, or the handshake failed.
pub async fn connect<S>(
    config: Arc<ClientConfig>,
    host: &str,
    stream: S,
) -> io::Result<futures_rustls::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = server_name(host)?;
    let stream = futures_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await?;
    Ok(futures_rustls::TlsStream::Client(stream))
}

/// The server side of a TLS handshake over `stream`.
pub(crate) async fn accept<S>(
    config: Arc<ServerConfig>,
    stream: S,
) -> io::Result<futures_rustls::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let stream = futures_rustls::TlsAcceptor::from(config)
        .accept(stream)
        .await?;
    Ok(futures_rustls::TlsStream::Server(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_is_built_once() {
        assert!(Arc::ptr_eq(
            &default_client_config(),
            &default_client_config()
        ));
    }

    #[test]
    fn pem_errors_say_which_file_is_wrong() {
        let err = server_config_from_pem(b"", b"").unwrap_err();
        assert!(matches!(err, PemError::Certificate(_)), "{err}");
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = server_config_from_pem(cert.as_bytes(), b"nothing").unwrap_err();
        assert!(matches!(err, PemError::Key(_)), "{err}");
    }
}
