//! The README's "Layout" section against the tree: every path it names
//! exists, every package folder and top-level tool folder is named, and the
//! scripts it lists are the scripts in `scripts/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const README: &str = include_str!("../../../README.md");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The section's lines: (path as written, description).
fn layout() -> Vec<(&'static str, &'static str)> {
    let start = README.find("\n## Layout\n").expect("a Layout section");
    let block = &README[start..];
    let block = &block[block.find("```text\n").expect("a text block") + 8..];
    let block = &block[..block.find("```").expect("the block ends")];
    block
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(path, description)| (path, description.trim()))
        .collect()
}

/// The folders under `dir` that hold a `Cargo.toml`, as `dir/name`.
fn packages_under(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?;
            path.join("Cargo.toml")
                .is_file()
                .then(|| format!("{dir}/{name}"))
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_path_in_the_layout_exists() {
    let lines = layout();
    assert!(lines.len() > 10, "{lines:?}");
    for (path, _) in &lines {
        assert!(
            root().join(path).exists(),
            "{path} is in the README's Layout but not in the tree"
        );
    }
}

#[test]
fn the_layout_names_every_package_and_tool_folder() {
    let named: BTreeSet<&str> = layout()
        .into_iter()
        .map(|(path, _)| path.trim_end_matches('/'))
        .collect();
    let mut expected: Vec<String> = ["crates", "tests"]
        .into_iter()
        .flat_map(packages_under)
        .collect();
    expected.extend(packages_under("examples"));
    expected.extend(["examples", "fuzz", "bench", "scripts", ".ci/run"].map(str::to_owned));
    let missing: Vec<_> = expected
        .iter()
        .filter(|path| !named.contains(path.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the README's Layout: {missing:?}"
    );
}

/// A shell script's name (the project writes them `name.sh`).
fn is_script(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|extension| extension == "sh")
}

#[test]
fn the_layout_lists_the_scripts_there_are() {
    let (_, description) = layout()
        .into_iter()
        .find(|(path, _)| *path == "scripts/")
        .expect("a scripts/ line");
    let listed: BTreeSet<&str> = description
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| is_script(word))
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(root().join("scripts"))
        .expect("scripts/")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| is_script(name))
        .collect();
    let present: BTreeSet<&str> = present.iter().map(String::as_str).collect();
    assert_eq!(listed, present, "the scripts/ line of the README's Layout");
}
