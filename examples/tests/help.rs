//! Every example program that takes flags answers `--help` on standard
//! output with exit status 0, in all four example packages (`examples`,
//! `examples/more`, `examples/axum`, `examples/fanout`) and the protocol
//! core's (`blocking_echo` takes an address). The programs are
//! found by listing each package's `examples/` folder, so a new one is
//! checked without being named here.
//!
//! `cargo test --workspace` builds every example before the tests run. A
//! narrower run (`cargo test -p examples --test help`) builds the ones
//! missing from the target folder first, with `cargo build --examples`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The packages with example programs, by folder from this one.
const PACKAGES: [(&str, &str); 5] = [
    ("examples", "."),
    ("examples-more", "more"),
    ("examples-axum", "axum"),
    ("examples-fanout", "fanout"),
    ("wsproto-core", "../crates/wsproto-core"),
];

/// Examples that take no arguments: each runs its demo and exits.
const WITHOUT_FLAGS: [&str; 2] = ["chat", "conversation"];

/// How long one `--help` may take (it prints and exits at once).
const LIMIT: Duration = Duration::from_secs(60);

/// The examples of one package: the `.rs` files of its `examples/` folder.
fn examples_of(folder: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(folder)
        .join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    names
}

/// Where `cargo` puts example binaries: `target/<profile>/examples`.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("examples")
}

/// Builds the examples of `package` with the profile of this test binary.
fn build_examples(package: &str) {
    let mut command = Command::new(env!("CARGO"));
    command.args(["build", "--examples", "-p", package]);
    let profile_dir = examples_dir().parent().map(Path::to_path_buf);
    if profile_dir
        .as_deref()
        .and_then(Path::file_name)
        .is_some_and(|name| name == "release")
    {
        command.arg("--release");
    }
    let status = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --examples -p {package}");
}

/// Runs `binary --help`: its exit status, stdout and stderr, or `None`
/// when it did not finish within [`LIMIT`] (it is killed then).
fn help_of(binary: &Path) -> Option<(bool, String, String)> {
    let mut child = Command::new(binary)
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stdout, mut stderr) = (String::new(), String::new());
        let _ = out.read_to_string(&mut stdout);
        let _ = err.read_to_string(&mut stderr);
        let _ = done_tx.send((stdout, stderr));
    });
    let Ok((stdout, stderr)) = done.recv_timeout(LIMIT) else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    let status = child.wait().expect("wait");
    Some((status.success(), stdout, stderr))
}

#[test]
fn every_example_with_flags_answers_help_on_stdout_with_status_0() {
    let dir = examples_dir();
    let mut checked = Vec::new();
    let mut faults = Vec::new();
    for (package, folder) in PACKAGES {
        let names: Vec<String> = examples_of(folder)
            .into_iter()
            .filter(|name| !WITHOUT_FLAGS.contains(&name.as_str()))
            .collect();
        if names.iter().any(|name| !dir.join(name).is_file()) {
            build_examples(package);
        }
        for name in names {
            let binary = dir.join(&name);
            match help_of(&binary) {
                None => faults.push(format!("{name} --help: still running after {LIMIT:?}")),
                Some((ok, stdout, stderr)) => {
                    if !ok || !stdout.contains("Usage:") || !stdout.contains(name.as_str()) {
                        faults.push(format!(
                            "{name} --help: success {ok}, stdout {stdout:?}, stderr {stderr:?}"
                        ));
                    }
                }
            }
            checked.push(name);
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");
    // The packages hold twelve programs with flags; fewer means a folder
    // was not read.
    assert!(checked.len() >= 12, "{checked:?}");
}
