//! Real peers, installed by the tests themselves on a fresh clone: Python
//! packages into a venv, Node packages with `npm ci` from a committed lock
//! file. Each install happens once per target directory: a marker file
//! holds what was installed (a changed requirements or lock file installs
//! again), a file lock keeps concurrent test processes from installing at
//! the same time, and within a process the result is remembered.
//!
//! ```text
//!  python_venv(tmp, "interop-python", requirements.txt) ──► tmp/peers/interop-python/bin/python
//!  npm_ci(tmp, "interop-node", dir with package-lock.json) ──► tmp/peers/interop-node/node_modules
//! ```

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

/// Installs the packages of the pip `requirements` file into a venv
/// `name` under `tmp` (a test crate's `CARGO_TARGET_TMPDIR`) and returns
/// the venv's directory (`bin/python` inside runs with them).
///
/// # Errors
/// What failed, with the command's output: `python3` or its `venv`
/// module missing, the package registry unreachable.
pub fn python_venv(tmp: &Path, name: &str, requirements: &Path) -> Result<PathBuf, String> {
    once(tmp, name, |venv| {
        let marker = venv.join("installed-requirements.txt");
        if read(&marker).is_ok_and(|m| Ok(m) == read(requirements)) {
            return Ok(());
        }
        let _ = fs::remove_dir_all(venv);
        run(
            Command::new("python3").arg("-m").arg("venv").arg(venv),
            "creating a Python venv (is python3 with the venv module installed?)",
        )?;
        run(
            Command::new(venv.join("bin").join("python"))
                .args(["-m", "pip", "install", "--disable-pip-version-check"])
                .args(["--quiet", "--retries", "1", "--timeout", "30", "-r"])
                .arg(requirements),
            "installing Python packages with pip (is the Python package registry reachable?)",
        )?;
        fs::copy(requirements, &marker).map_err(|e| format!("{}: {e}", marker.display()))?;
        Ok(())
    })
}

/// Installs the Node packages of `source` (a directory with
/// `package.json` and `package-lock.json`) with `npm ci` into `name` under
/// `tmp`, and returns that directory (its `node_modules` is what
/// `NODE_PATH` should name).
///
/// # Errors
/// What failed, with the command's output: `npm` missing, the registry
/// unreachable.
pub fn npm_ci(tmp: &Path, name: &str, source: &Path) -> Result<PathBuf, String> {
    once(tmp, name, |dir| {
        let lock = source.join("package-lock.json");
        let marker = dir.join("installed-package-lock.json");
        if read(&marker).is_ok_and(|m| Ok(m) == read(&lock)) {
            return Ok(());
        }
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for file in ["package.json", "package-lock.json"] {
            fs::copy(source.join(file), dir.join(file))
                .map_err(|e| format!("copying {file} to {}: {e}", dir.display()))?;
        }
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                .args(["--fetch-retries=1", "--fetch-timeout=30000"])
                .current_dir(dir),
            "installing Node packages with npm ci (is node/npm installed and the npm registry reachable?)",
        )?;
        fs::copy(&lock, &marker).map_err(|e| format!("{}: {e}", marker.display()))?;
        Ok(())
    })
}

/// Runs `install` for `tmp/peers/name` at most once per process, and one
/// process at a time (a file lock beside it).
fn once(
    tmp: &Path,
    name: &str,
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    static DONE: Mutex<Option<HashMap<PathBuf, Result<(), String>>>> = Mutex::new(None);
    let root = tmp.join("peers");
    let dir = root.join(name);
    let mut done = DONE.lock().unwrap_or_else(PoisonError::into_inner);
    let done = done.get_or_insert_with(HashMap::new);
    if let Some(result) = done.get(&dir) {
        return result.clone().map(|()| dir);
    }
    let result = (|| {
        fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let lock_path = root.join(format!("{name}.lock"));
        let lock = File::create(&lock_path)
            .and_then(|lock| lock.lock().map(|()| lock))
            .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
        let installed = install(&dir);
        drop(lock);
        installed
    })();
    done.insert(dir.clone(), result.clone());
    result.map(|()| dir)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs an install command to completion; its output is the error.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {command:?} did not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what}: {command:?} failed ({})\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}
