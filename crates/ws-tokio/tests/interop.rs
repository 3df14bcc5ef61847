//! Interop smoke tests with Python `websockets`, both directions, with
//! permessage-deflate. The test installs `websockets` into a venv under the
//! target directory on first use; without network access to the package
//! registry it fails with a clear message (it never passes silently).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use common::{echo_server, within};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use ws_tokio::{Acceptor, CloseCode, Config, Connector, DeflateConfig, Message};

const PY_SERVER: &str = r#"
import asyncio
from websockets.asyncio.server import serve

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with serve(echo, "127.0.0.1", 0, compression="deflate", max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"#;

const PY_CLIENT: &str = r#"
import asyncio, sys
from websockets.asyncio.client import connect

async def main():
    async with connect(sys.argv[1], compression="deflate", max_size=None) as ws:
        await ws.send("hello from python")
        assert await ws.recv() == "hello from python"
        await ws.send(b"\x00\x01\x02")
        assert await ws.recv() == b"\x00\x01\x02"
        big = "compress me " * 100000
        await ws.send(big)
        assert await ws.recv() == big
        print("ok", ws.response.headers.get("Sec-WebSocket-Extensions"), flush=True)

asyncio.run(main())
"#;

/// The venv's Python with `websockets` installed, set up once per run.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-websockets-venv");
        let python = venv.join("bin").join("python");
        let has_websockets = |python: &Path| {
            std::process::Command::new(python)
                .args(["-c", "import websockets.asyncio.server"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has_websockets(&python) {
            let status = std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 is needed for the interop tests: install Python 3");
            assert!(
                status.success(),
                "python3 -m venv {} failed",
                venv.display()
            );
            let output = std::process::Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", "websockets>=13"])
                .output()
                .expect("pip from the new venv did not start");
            assert!(
                output.status.success(),
                "pip install websockets failed (is the Python package registry reachable?):\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                has_websockets(&python),
                "websockets installed but not importable"
            );
        }
        python
    })
}

#[tokio::test]
async fn our_client_against_python_server() {
    let python = python();
    within(30, async {
        let mut child = tokio::process::Command::new(python)
            .args(["-c", PY_SERVER])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port: u16 = lines
            .next_line()
            .await
            .unwrap()
            .expect("the Python server printed no port")
            .trim()
            .parse()
            .unwrap();
        let config = Config::default().with_compression(DeflateConfig::default());
        let (mut ws, response) = Connector::new()
            .config(config)
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap();
        assert_eq!(response.extensions, ["permessage-deflate"]);
        ws.send_text("hello from rust").await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap(),
            Message::Text("hello from rust".into())
        );
        ws.send_binary(vec![0u8, 1, 2]).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap(),
            Message::Binary(vec![0u8, 1, 2].into())
        );
        let big = "compress me ".repeat(100_000);
        ws.send_text(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().as_bytes(), big.as_bytes());
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert!(
            ws.close_reason().unwrap().is_clean(),
            "{:?}",
            ws.close_reason()
        );
        let _ = child.kill().await;
    })
    .await;
}

#[tokio::test]
async fn python_client_against_our_server() {
    let python = python();
    within(30, async {
        let config = Config::default().with_compression(DeflateConfig::default());
        let url = echo_server(Acceptor::new().config(config)).await;
        let output = tokio::process::Command::new(python)
            .args(["-c", PY_CLIENT, &url])
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "python client failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.starts_with("ok permessage-deflate"), "{stdout}");
    })
    .await;
}
