//! The README's "Command line" section against the CLI itself: its
//! websocat/wscat table names every flag `wsp` takes, and no flag `wsp`
//! does not take.

use std::collections::BTreeSet;

use clap::CommandFactory as _;
use wsproto_cli::cli::Cli;

const README: &str = include_str!("../../../../README.md");

/// The flags the command line takes: `--long` and `-s`.
fn cli_flags() -> BTreeSet<String> {
    let mut command = Cli::command();
    command.build();
    let mut flags = BTreeSet::new();
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            flags.insert(format!("--{long}"));
        }
        if let Some(short) = arg.get_short() {
            flags.insert(format!("-{short}"));
        }
    }
    flags
}

/// The flags in the first column of the section's table.
fn readme_flags() -> BTreeSet<String> {
    let start = README
        .find("\n## Command line\n")
        .expect("a Command line section");
    let section = &README[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let mut flags = BTreeSet::new();
    for row in section.lines().filter(|line| line.starts_with("| `")) {
        let first_cell = row.split(" | ").next().unwrap_or_default();
        for word in first_cell.split(|c: char| c.is_whitespace() || "`,()/".contains(c)) {
            let name: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let is_long = name.len() > 2 && name.starts_with("--");
            let is_short = name.len() == 2 && name.starts_with('-') && name != "--";
            if is_long || is_short {
                flags.insert(name);
            }
        }
    }
    flags
}

#[test]
fn the_readme_flag_table_matches_the_command_line() {
    let (cli, readme) = (cli_flags(), readme_flags());
    assert!(cli.contains("--raw") && cli.contains("-1"), "{cli:?}");
    let missing: Vec<_> = cli.difference(&readme).collect();
    let unknown: Vec<_> = readme.difference(&cli).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "flags of wsp missing from the README's table: {missing:?}; flags in the table that wsp does not take: {unknown:?}"
    );
}
