//! What the load generator, the memory probe and the raw-TCP echo share:
//! argument lookup, the opening handshake (both sides, just enough of RFC
//! 6455 §4), frame headers and masking, and per-process CPU and memory
//! readings from `/proc`.

use std::time::Duration;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The value after `--name` on the command line, if any.
#[must_use]
pub fn arg(name: &str) -> Option<String> {
    let flag = format!("--{name}");
    std::env::args().skip_while(|a| *a != flag).nth(1)
}

/// Whether `--name` appears on the command line (a switch without value).
#[must_use]
pub fn flag(name: &str) -> bool {
    let flag = format!("--{name}");
    std::env::args().any(|a| a == flag)
}

/// `--name N` parsed, or `default`. Exits with a message on a bad value.
#[must_use]
pub fn num_arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    match arg(name) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("error: --{name} {v:?} is not a number");
            std::process::exit(2)
        }),
    }
}

/// `--addr ADDR`, default `127.0.0.1:0` (a free port chosen by the kernel).
#[must_use]
pub fn addr_arg() -> String {
    arg("addr").unwrap_or_else(|| "127.0.0.1:0".to_owned())
}

/// Runs an echo server's accept loop on a current-thread tokio runtime (one
/// thread, as every server in the benchmark): listens on `--addr` (default
/// a free port), prints `listening on ws://ADDR`, and spawns
/// `handle(stream)` for each connection, with `TCP_NODELAY` set.
///
/// # Errors
/// The runtime or the listener could not be set up.
pub fn serve<F, Fut>(handle: F) -> std::io::Result<()>
where
    F: Fn(TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let addr = addr_arg();
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        // ws-axum's sessions arm timers (heartbeat, handshake timeout).
        .enable_time()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("listening on ws://{}", listener.local_addr()?);
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                tokio::spawn(handle(stream));
            }
        })
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
#[must_use]
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// The end of an HTTP head in `buf` (the index after `\r\n\r\n`).
#[must_use]
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The value of header `name` (case-insensitive) in an HTTP head.
#[must_use]
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The two calls the handshake and the raw echo make on a byte stream, so
/// that they run on tokio's `TcpStream` and on other runtimes' streams
/// (the raw echo's smol variant wraps smol's).
#[allow(async_fn_in_trait)] // used here and in echo-raw, never across threads
pub trait ByteStream {
    /// Reads what is available, as `read(2)`.
    ///
    /// # Errors
    /// The transport failed.
    async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Writes all of `buf`.
    ///
    /// # Errors
    /// The transport failed.
    async fn write_every(&mut self, buf: &[u8]) -> std::io::Result<()>;
}

impl ByteStream for TcpStream {
    async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read(buf).await
    }
    async fn write_every(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write_all(buf).await
    }
}

/// Reads an HTTP head; returns it and the bytes read after it.
///
/// # Errors
/// EOF or a transport error before the head ended, or a head over 16 KiB.
pub async fn read_head<S: ByteStream>(stream: &mut S) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read_some(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf) {
            let rest = buf.split_off(end);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > 16 * 1024 {
            return Err(std::io::Error::other("HTTP head over 16 KiB"));
        }
    }
}

/// A receive buffer whose bytes start half a page past a 4 KiB boundary.
///
/// The kernel copies received data with `rep movsb`, which on the AMD EPYC
/// machine the benchmarks ran on crawls when the destination sits a few
/// bytes above the source modulo 4 KiB; a large `Vec` starts 16 bytes past
/// a page boundary, and reads into it cost ours (before it read this way)
/// and the raw echo a fifth of their CPU with 64 KiB messages. The raw echo
/// is the ceiling and the generator must not be the bottleneck, so both
/// read this way too (ws-session's driver does the same).
#[derive(Debug)]
pub struct RecvBuf {
    store: Vec<u8>,
    base: usize,
}

impl RecvBuf {
    const PAGE: usize = 4096;
    const OFFSET: usize = 2048;

    /// A buffer holding `data` at its start, at least `len` bytes long.
    #[must_use]
    pub fn new(data: &[u8], len: usize) -> Self {
        let mut buf = RecvBuf {
            store: Vec::new(),
            base: 0,
        };
        buf.grow(len.max(data.len()));
        buf[..data.len()].copy_from_slice(data);
        buf
    }

    /// Grows the buffer to at least `len` bytes, keeping its contents.
    pub fn grow(&mut self, len: usize) {
        if self.store.len() - self.base >= len {
            return;
        }
        let mut store = vec![0u8; len + Self::PAGE];
        let base = (Self::OFFSET + Self::PAGE - store.as_ptr().addr() % Self::PAGE) % Self::PAGE;
        let old = &self.store[self.base..];
        store[base..base + old.len()].copy_from_slice(old);
        self.store = store;
        self.base = base;
    }
}

impl std::ops::Deref for RecvBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.store[self.base..]
    }
}

impl std::ops::DerefMut for RecvBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.store[self.base..]
    }
}

/// The outcome of a client handshake.
#[derive(Debug)]
pub struct Upgraded {
    /// Bytes that arrived after the response head (the first frames).
    pub leftover: Vec<u8>,
    /// The server accepted permessage-deflate.
    pub deflate: bool,
}

/// Opens a connection to `addr` and performs the client handshake,
/// offering permessage-deflate without context takeover when `deflate`.
/// Sets `TCP_NODELAY`.
///
/// # Errors
/// Connection failure, or a response that is not a valid 101 for our key.
pub async fn connect(addr: &str, deflate: bool) -> Result<(TcpStream, Upgraded), String> {
    let offer = if deflate { DEFLATE_OFFER } else { "" };
    connect_to(addr, "/", offer).await
}

/// permessage-deflate without context takeover either way.
pub const DEFLATE_OFFER: &str =
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover";

/// [`connect`] to `path`, offering `extensions` (a `Sec-WebSocket-Extensions`
/// value; empty for none).
///
/// # Errors
/// As [`connect`].
pub async fn connect_to(
    addr: &str,
    path: &str,
    extensions: &str,
) -> Result<(TcpStream, Upgraded), String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let upgraded = upgrade(&mut stream, addr, path, extensions).await?;
    Ok((stream, upgraded))
}

/// [`connect`] without permessage-deflate from local address `source`
/// (port chosen by the kernel): bound before it connects, so one client
/// can open more connections than one source address has ephemeral ports.
///
/// # Errors
/// As [`connect`]; binding `source` failed.
pub async fn connect_from(
    addr: std::net::SocketAddr,
    source: std::net::IpAddr,
) -> Result<(TcpStream, Upgraded), String> {
    let socket = if source.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(std::net::SocketAddr::new(source, 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let mut stream = socket
        .connect(addr)
        .await
        .map_err(|e| format!("connect {addr} from {source}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let upgraded = upgrade(&mut stream, &addr.to_string(), "/", "").await?;
    Ok((stream, upgraded))
}

/// Warms a server up before a memory reading: one connection, one 5-byte
/// echo checked, so one-time allocations (the runtime's, the first
/// task's) are not counted against the connections that follow. Returns
/// the connection, to be kept open.
///
/// # Errors
/// The connection or the handshake failed, the server closed, or the echo
/// was wrong.
pub async fn warm_up(addr: &str) -> Result<TcpStream, String> {
    let (mut first, up) = connect(addr, false).await?;
    let mut frame = Vec::new();
    push_header(&mut frame, OP_BINARY, false, 5, Some([1, 2, 3, 4]));
    push_masked(&mut frame, b"hello", [1, 2, 3, 4]);
    first.write_all(&frame).await.map_err(|e| e.to_string())?;
    let mut echo = up.leftover;
    while parse_header(&echo).is_none_or(|h| echo.len() < h.len + h.payload) {
        let mut chunk = [0u8; 64];
        let n = first.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the warm-up connection".to_owned());
        }
        echo.extend_from_slice(&chunk[..n]);
    }
    if echo[2..7] != *b"hello" {
        return Err("wrong warm-up echo".to_owned());
    }
    Ok(first)
}

/// The client handshake of [`connect_to`] over a connected `stream` (TCP
/// or TLS).
///
/// # Errors
/// As [`connect`].
pub async fn upgrade<S: ByteStream>(
    stream: &mut S,
    addr: &str,
    path: &str,
    extensions: &str,
) -> Result<Upgraded, String> {
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let offer = if extensions.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Extensions: {extensions}\r\n")
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    );
    stream
        .write_every(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let (head, leftover) = read_head(stream)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    if !head.starts_with("HTTP/1.1 101") {
        return Err(format!(
            "handshake refused: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    if header(&head, "sec-websocket-accept") != Some(accept_key(key).as_str()) {
        return Err("handshake: wrong Sec-WebSocket-Accept".to_owned());
    }
    let deflate = header(&head, "sec-websocket-extensions")
        .is_some_and(|v| v.starts_with("permessage-deflate"));
    Ok(Upgraded { leftover, deflate })
}

/// Binary opcode.
pub const OP_BINARY: u8 = 0x2;
/// Close opcode.
pub const OP_CLOSE: u8 = 0x8;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// FIN bit.
    pub fin: bool,
    /// RSV1 bit (permessage-deflate).
    pub rsv1: bool,
    /// Opcode.
    pub opcode: u8,
    /// Masking key, if masked.
    pub mask: Option<[u8; 4]>,
    /// Header length in bytes.
    pub len: usize,
    /// Payload length.
    pub payload: usize,
}

/// Parses a frame header at the start of `buf`; `None` if incomplete.
#[must_use]
pub fn parse_header(buf: &[u8]) -> Option<Header> {
    if buf.len() < 2 {
        return None;
    }
    let masked = buf[1] & 0x80 != 0;
    let (payload, mut len) = match buf[1] & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        n => (usize::from(n), 2),
    };
    let mask = if masked {
        let m: [u8; 4] = buf.get(len..len + 4)?.try_into().ok()?;
        len += 4;
        Some(m)
    } else {
        None
    };
    Some(Header {
        fin: buf[0] & 0x80 != 0,
        rsv1: buf[0] & 0x40 != 0,
        opcode: buf[0] & 0x0f,
        mask,
        len,
        payload,
    })
}

/// Appends a frame header (FIN set) to `out`.
pub fn push_header(
    out: &mut Vec<u8>,
    opcode: u8,
    rsv1: bool,
    payload: usize,
    mask: Option<[u8; 4]>,
) {
    out.push(0x80 | if rsv1 { 0x40 } else { 0 } | opcode);
    let m = if mask.is_some() { 0x80 } else { 0 };
    if payload < 126 {
        out.push(m | payload as u8);
    } else if let Ok(short) = u16::try_from(payload) {
        out.push(m | 0x7e);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(m | 0x7f);
        out.extend_from_slice(&(payload as u64).to_be_bytes());
    }
    if let Some(mask) = mask {
        out.extend_from_slice(&mask);
    }
}

/// Appends `payload` masked (XOR) with `mask` to `out`, eight bytes at a time.
pub fn push_masked(out: &mut Vec<u8>, payload: &[u8], mask: [u8; 4]) {
    let start = out.len();
    out.resize(start + payload.len(), 0);
    let dst = &mut out[start..];
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = payload.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let v = u64::from_ne_bytes(s.try_into().unwrap_or([0; 8])) ^ wide;
        d.copy_from_slice(&v.to_ne_bytes());
    }
    let done = payload.len() - s.remainder().len();
    for (i, (d, s)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *d = s ^ mask[(done + i) % 4];
    }
}

/// CPU time used so far by process `pid` (all its threads), from the
/// scheduler's nanosecond counters in `/proc/PID/task/*/schedstat`.
#[must_use]
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may exit between the listing and the read.
        if let Ok(text) = std::fs::read_to_string(path) {
            total += text.split_whitespace().next()?.parse::<u64>().ok()?;
        }
    }
    Some(Duration::from_nanos(total))
}

/// Resident set size of process `pid` in KiB (`VmRSS`).
#[must_use]
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_accept_vector() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn masked_round_trip_and_rfc_vector() {
        // RFC 6455 §5.7: a masked "Hello".
        let mut out = Vec::new();
        push_header(&mut out, 0x1, false, 5, Some([0x37, 0xfa, 0x21, 0x3d]));
        push_masked(&mut out, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(
            out,
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        let h = parse_header(&out).expect("complete");
        assert_eq!((h.len, h.payload, h.opcode, h.fin), (6, 5, 1, true));
        for size in [0, 7, 8, 125, 126, 65_535, 65_536, 100_003] {
            let payload: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let mut frame = Vec::new();
            push_header(&mut frame, OP_BINARY, false, size, Some([1, 2, 3, 4]));
            push_masked(&mut frame, &payload, [1, 2, 3, 4]);
            let h = parse_header(&frame).expect("complete");
            assert_eq!(h.payload, size);
            let mut back = Vec::new();
            push_masked(&mut back, &frame[h.len..], [1, 2, 3, 4]);
            assert_eq!(back, payload);
        }
    }
}

#[cfg(test)]
mod recv_buf_tests {
    use super::RecvBuf;

    #[test]
    fn starts_half_a_page_in_and_keeps_its_bytes_when_it_grows() {
        let mut buf = RecvBuf::new(b"abc", 10);
        assert!(buf.len() >= 10);
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(buf.as_ptr().addr() % 4096, 2048);
        buf[3] = b'd';
        buf.grow(300_000);
        assert!(buf.len() >= 300_000);
        assert_eq!(&buf[..4], b"abcd");
        assert_eq!(buf.as_ptr().addr() % 4096, 2048);
    }
}

/// CPU seconds (user + system) of this process so far.
#[must_use]
pub fn own_cpu() -> f64 {
    process_cpu(std::process::id()).map_or(f64::NAN, |d| d.as_secs_f64())
}

/// The result line of a firehose client (see `src/bin/firehose.rs`):
/// `msgs` received since `started`, when this process had used `cpu0`
/// seconds of CPU.
pub fn report_firehose(msgs: usize, started: std::time::Instant, cpu0: f64) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "RESULT msgs={msgs} secs={secs:.3} msgs_per_s={:.0} client_cpu_us_per_msg={:.3}",
        msgs as f64 / secs,
        (own_cpu() - cpu0) * 1e6 / msgs as f64
    );
}

/// TLS for the wss rows: every server (`--tls-cert FILE --tls-key FILE`)
/// and the generator (`--tls-ca FILE`) use rustls with ring, and the
/// generator offers one cipher suite, `TLS13_AES_128_GCM_SHA256`, so
/// every row runs the same cipher with the same certificate.
// rustls 0.23.46 marks ring's provider deprecated (no post-quantum key
// exchange); ours' TLS uses the same provider, so the rows compare alike.
#[allow(deprecated)]
pub mod tls {
    use std::sync::Arc;

    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::net::TcpStream;
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
    pub use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// The server's certificate and key from `--tls-cert` / `--tls-key`.
    ///
    /// # Panics
    /// Unreadable files, or a certificate rustls refuses.
    #[must_use]
    pub fn server_config(cert: &str, key: &str) -> Arc<ServerConfig> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .expect("--tls-cert")
            .collect::<Result<_, _>>()
            .expect("--tls-cert");
        let key = PrivateKeyDer::from_pem_file(key).expect("--tls-key");
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("certificate and key");
        Arc::new(config)
    }

    /// `Some(acceptor)` when the command line has `--tls-cert` and `--tls-key`.
    #[must_use]
    pub fn acceptor_from_args() -> Option<TlsAcceptor> {
        let (cert, key) = (super::arg("tls-cert")?, super::arg("tls-key")?);
        Some(TlsAcceptor::from(server_config(&cert, &key)))
    }

    /// A connector that trusts `ca` (PEM) only and offers one cipher suite.
    ///
    /// # Panics
    /// An unreadable or invalid certificate.
    #[must_use]
    pub fn connector(ca: &str) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).expect("--tls-ca") {
            roots.add(cert.expect("--tls-ca")).expect("--tls-ca");
        }
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
        let config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    /// Connects to `addr` (`TCP_NODELAY`) and completes TLS for `localhost`.
    ///
    /// # Errors
    /// Connection or TLS failure.
    pub async fn connect(
        connector: &TlsConnector,
        addr: &str,
    ) -> Result<client::TlsStream<TcpStream>, String> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))
    }

    /// [`super::serve`] behind TLS: each connection's TLS handshake runs in
    /// its own task, then `handle` gets the TLS stream.
    ///
    /// # Errors
    /// The runtime or the listener failed.
    pub fn serve<F, Fut>(acceptor: TlsAcceptor, handle: F) -> std::io::Result<()>
    where
        F: Fn(server::TlsStream<TcpStream>) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        super::serve(move |stream| {
            let (acceptor, handle) = (acceptor.clone(), handle.clone());
            async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    handle(tls).await;
                }
            }
        })
    }

    impl super::ByteStream for server::TlsStream<TcpStream> {
        async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            tokio::io::AsyncReadExt::read(self, buf).await
        }
        async fn write_every(&mut self, buf: &[u8]) -> std::io::Result<()> {
            tokio::io::AsyncWriteExt::write_all(self, buf).await
        }
    }

    impl super::ByteStream for client::TlsStream<TcpStream> {
        async fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            tokio::io::AsyncReadExt::read(self, buf).await
        }
        async fn write_every(&mut self, buf: &[u8]) -> std::io::Result<()> {
            tokio::io::AsyncWriteExt::write_all(self, buf).await
        }
    }
}
