//! The README's configuration table states the defaults of `Config` and
//! `DeflateConfig`; this reads them from the code and checks each row, so
//! the table cannot drift from `config.rs`.
use std::time::Duration;

use wsproto_core::{Config, DeflateConfig};

const README: &str = include_str!("../../../../README.md");

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

/// `131072` as the README writes it: `131 072`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn row(option: &str, default: &str) {
    let row = format!("| `{option}` | {default} |");
    assert!(README.contains(&row), "README lacks the row {row:?}");
}

#[test]
fn the_readme_states_the_defaults_of_the_code() {
    let c = Config::default();
    let some = |d: Option<Duration>| seconds(d.expect("on by default"));
    row("with_ping_interval", &some(c.ping_interval()));
    row("with_ping_timeout", &seconds(c.ping_timeout()));
    row("with_close_timeout", &seconds(c.close_timeout()));
    row("with_message_timeout", &some(c.message_timeout()));
    row("with_send_timeout", &some(c.send_timeout()));
    row("with_max_frame_size", &bytes(c.max_frame_size()));
    row("with_max_message_size", &bytes(c.max_message_size()));
    row("with_max_inflated_size", &bytes(c.max_inflated_size()));
    row("with_max_fragments", &grouped(c.max_fragments()));
    assert_eq!(c.stream_threshold(), None);
    row("with_send_queue_limit", &bytes(c.send_queue_limit()));
    assert!(c.memory_budget().is_none());
    row("with_memory_budget", "`None`");
    assert_eq!(c.auto_fragment_size(), None);
    let limits = c.handshake_limits();
    row(
        "with_handshake_limits",
        &format!(
            "{} head, {} headers",
            bytes(limits.max_head_bytes),
            limits.max_headers
        ),
    );
    assert!(c.extensions().is_empty());

    let d = DeflateConfig::default();
    row("with_level", &format!("{} (fastest; 0–9)", d.level()));
    row(
        "with_mem_level",
        &format!("{} (1–9; zlib's memLevel)", d.mem_level()),
    );
    assert_eq!(d.compress_if_bigger_than(), None);
    row(
        "with_compress_if_bigger_than",
        "`None` (compress every message)",
    );
    assert!(!d.client_no_context_takeover() && !d.server_no_context_takeover());
    assert_eq!(
        (d.client_max_window_bits(), d.server_max_window_bits()),
        (None, None)
    );
    assert!(d.client_enabled() && d.server_enabled());
}
