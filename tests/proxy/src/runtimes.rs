//! The runtimes under test: tokio (through `ws_tokio::Compat`), async-std
//! and smol (their futures-io streams as they are); `block_on` and the
//! timers are the interop suite's adapters'.

use std::io;
use std::net::SocketAddr;

use crate::Rt;

/// tokio, current-thread.
#[derive(Debug)]
pub struct Tokio;

impl Rt for Tokio {
    const NAME: &'static str = "tokio";
    type Tcp = ws_tokio::Compat<tokio::net::TcpStream>;
    type Adapter = interop_tests::adapters::Tokio;

    async fn connect(addr: SocketAddr) -> io::Result<Self::Tcp> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(ws_tokio::Compat::new(tcp))
    }

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host.as_str(), port))
            .await?
            .collect())
    }
}

/// async-std.
#[derive(Debug)]
pub struct AsyncStd;

impl Rt for AsyncStd {
    const NAME: &'static str = "async-std";
    type Tcp = async_std::net::TcpStream;
    type Adapter = interop_tests::adapters::AsyncStd;

    async fn connect(addr: SocketAddr) -> io::Result<Self::Tcp> {
        async_std::net::TcpStream::connect(addr).await
    }

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        use async_std::net::ToSocketAddrs as _;
        Ok((host.as_str(), port).to_socket_addrs().await?.collect())
    }
}

/// smol.
#[derive(Debug)]
pub struct Smol;

impl Rt for Smol {
    const NAME: &'static str = "smol";
    type Tcp = smol::net::TcpStream;
    type Adapter = interop_tests::adapters::Smol;

    async fn connect(addr: SocketAddr) -> io::Result<Self::Tcp> {
        smol::net::TcpStream::connect(addr).await
    }

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        smol::net::resolve((host.as_str(), port)).await
    }
}
