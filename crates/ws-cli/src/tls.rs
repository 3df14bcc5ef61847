//! TLS for `wss://`: the client's trust (the default roots, a CA file, or
//! `--insecure`) and the server's certificate and key, read from PEM files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use ws_tokio::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use ws_tokio::rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use ws_tokio::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
};

/// Why a TLS file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    /// The file could not be read or is not PEM.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        /// What the file was meant to hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        source: rustls_pki_types::pem::Error,
    },
    /// The file holds no certificate.
    #[error("{path} holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused a certificate or the key.
    #[error("{what} {path}: {source}")]
    Rejected {
        /// What the file holds.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
}

/// Every certificate in a PEM file (at least one).
fn certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let read = |source| TlsFileError::Read {
        what,
        path: path.to_owned(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(read)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    if certs.is_empty() {
        return Err(TlsFileError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// A client config that trusts exactly the certificates in `ca_file`
/// (like curl's `--cacert`: the default roots are not added).
pub fn trusting(ca_file: &Path) -> Result<Arc<ClientConfig>, TlsFileError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(ca_file, "CA file")? {
        roots.add(cert).map_err(|source| TlsFileError::Rejected {
            what: "CA certificate in",
            path: ca_file.to_owned(),
            source,
        })?;
    }
    Ok(ws_tokio::client_config_with_roots(roots))
}

/// The default client config: the webpki roots.
#[must_use]
pub fn default_client() -> Arc<ClientConfig> {
    ws_tokio::default_client_config()
}

/// A client config that accepts any server certificate (`--insecure`).
/// The TLS handshake itself still checks the server's signatures with the
/// certificate it presents, so the connection is encrypted, but to
/// whoever answered.
///
/// # Panics
/// Never: the `ring` provider supports the default protocol versions (the
/// `expect` states that invariant).
#[must_use]
pub fn insecure() -> Arc<ClientConfig> {
    let provider = ws_tokio::crypto_provider();
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A server config from a PEM certificate chain and a PEM private key.
pub fn server(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsFileError> {
    let chain = certificates(cert, "certificate file")?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsFileError::Read {
        what: "private key file",
        path: key.to_owned(),
        source,
    })?;
    ws_tokio::server_config(chain, key_der).map_err(|source| TlsFileError::Rejected {
        what: "certificate and key",
        path: cert.to_owned(),
        source,
    })
}

/// The `--insecure` verifier: every certificate is accepted; signatures
/// are still verified with the provider's algorithms.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_named_in_the_error() {
        let dir = std::env::temp_dir().join(format!("wsp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not pem at all\n").unwrap();
        let err = trusting(&empty).unwrap_err();
        assert!(matches!(err, TlsFileError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains("empty.pem"), "{err}");
        let missing = dir.join("missing.pem");
        let err = trusting(&missing).unwrap_err();
        assert!(err.to_string().starts_with("cannot read CA file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
