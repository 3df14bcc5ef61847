//! [`TestCert`]: a self-signed certificate made at test time.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed certificate for `localhost` and `127.0.0.1` made by
/// rcgen: configs for our side, PEM text for files other processes read.
#[derive(Debug)]
pub struct TestCert {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    cert_pem: String,
    key_pem: String,
}

impl Default for TestCert {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCert {
    /// A new certificate and key.
    ///
    /// # Panics
    /// If rcgen fails (it does not for these names).
    #[must_use]
    pub fn new() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("rcgen makes a certificate for localhost");
        TestCert {
            cert: certified.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()),
            cert_pem: certified.cert.pem(),
            key_pem: certified.key_pair.serialize_pem(),
        }
    }

    /// The certificate (the whole chain).
    #[must_use]
    pub fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    /// Its private key.
    #[must_use]
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    /// The certificate as PEM text.
    #[must_use]
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The key as PEM text.
    #[must_use]
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A server config that presents this certificate.
    ///
    /// # Panics
    /// If rustls refuses what rcgen made (it does not).
    #[must_use]
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        ws_session::tls::server_config(vec![self.cert()], self.key())
            .expect("rustls takes rcgen's certificate and key")
    }

    /// A root store that trusts exactly this certificate.
    ///
    /// # Panics
    /// If rustls refuses the certificate rcgen made (it does not).
    #[must_use]
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.cert.clone())
            .expect("rustls accepts rcgen's certificate");
        roots
    }

    /// A client config that trusts exactly this certificate.
    #[must_use]
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        ws_session::tls::client_config_with_roots(self.roots())
    }

    /// Writes `cert.pem` and `key.pem` into `dir` (created if needed) and
    /// returns their paths.
    ///
    /// # Errors
    /// The directory or a file cannot be written.
    pub fn write_pem(&self, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        fs::write(&cert_path, &self.cert_pem)
            .and_then(|()| fs::write(&key_path, &self.key_pem))
            .map_err(|e| format!("writing the certificate to {}: {e}", dir.display()))?;
        Ok((cert_path, key_path))
    }
}
