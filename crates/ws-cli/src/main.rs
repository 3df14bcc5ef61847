//! The `wsp` binary: everything is in the library (`wsproto_cli`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    wsproto_cli::main()
}
