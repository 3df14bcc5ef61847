//! Helpers of the axum and hyper example programs (`examples/axum/examples`).

use std::sync::Arc;

/// A TLS server config for `localhost` with a certificate made at
/// start-up (a real server loads its own, for example with
/// `ws_tokio::server_config_from_pem`).
///
/// # Errors
/// The certificate cannot be made or used, as text.
pub fn localhost_tls() -> Result<Arc<rustls::ServerConfig>, String> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
    ws_tokio::server_config_from_pem(
        cert.cert.pem().as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )
    .map_err(|e| format!("bad certificate or key: {e}"))
}
