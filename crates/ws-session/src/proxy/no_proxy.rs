//! [`NoProxy`]: the hosts that are reached directly (`NO_PROXY`, curl's
//! `--noproxy`).

use std::net::IpAddr;

/// A list of hosts reached without the proxy, parsed like curl's
/// `NO_PROXY`: entries separated by commas or white space, each one of
///
/// | entry | matches |
/// | --- | --- |
/// | `*` (alone) | every host |
/// | `example.com`, `.example.com`, `*.example.com` | that name and every name under it (not `myexample.com`) |
/// | `192.168.1.10`, `::1` (no brackets), `[::1]` | that address |
/// | `10.0.0.0/8`, `fd00::/8` | the addresses in that block (CIDR) |
/// | any of the above with `:port` (`example.com:8443`, `[::1]:80`) | the same, on that port only |
///
/// Names compare without regard to case or a trailing dot. An IP address
/// host is matched by address and CIDR entries only; no name is resolved.
/// Unparseable entries are skipped (as curl does).
///
/// ```
/// use ws_session::proxy::NoProxy;
///
/// let no_proxy = NoProxy::parse("localhost, .corp.example, 10.0.0.0/8, [::1]:9000");
/// assert!(no_proxy.matches("db.corp.example", 443));
/// assert!(no_proxy.matches("corp.example", 443));
/// assert!(!no_proxy.matches("notcorp.example", 443));
/// assert!(no_proxy.matches("10.1.2.3", 80));
/// assert!(no_proxy.matches("::1", 9000));
/// assert!(!no_proxy.matches("::1", 9001));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    host: Host,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// Lowercase, without a leading or trailing dot.
    Domain(String),
    /// An address and how many leading bits must match (all of them for a
    /// plain address).
    Block(IpAddr, u8),
}

impl NoProxy {
    /// Parses a `NO_PROXY` value (see the type's documentation).
    #[must_use]
    pub fn parse(list: &str) -> Self {
        let mut no_proxy = NoProxy::default();
        for entry in list.split(|c: char| c == ',' || c.is_whitespace()) {
            match entry {
                "" => {}
                "*" => no_proxy.all = true,
                entry => no_proxy.entries.extend(parse_entry(entry)),
            }
        }
        no_proxy
    }

    /// Whether the list is empty (no host bypasses the proxy).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.all && self.entries.is_empty()
    }

    /// Whether `host:port` is reached directly. `host` is a name or an IP
    /// address (IPv6 with or without brackets).
    #[must_use]
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            entry.port.is_none_or(|p| p == port)
                && match (&entry.host, ip) {
                    (Host::Block(block, bits), Some(ip)) => in_block(ip, *block, *bits),
                    (Host::Domain(domain), None) => {
                        name == *domain
                            || name
                                .strip_suffix(domain.as_str())
                                .is_some_and(|head| head.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

fn parse_entry(entry: &str) -> Option<Entry> {
    if let Some((addr, bits)) = entry.split_once('/') {
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(Entry {
            host: Host::Block(addr, bits),
            port: None,
        });
    }
    // A bare IPv6 address has colons but no port.
    if let Ok(addr) = entry.parse::<IpAddr>() {
        return Some(Entry {
            host: Host::Block(addr, full_bits(addr)),
            port: None,
        });
    }
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        (host, port)
    } else {
        match entry.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.parse().ok()?)),
            None => (entry, None),
        }
    };
    let host = if let Ok(addr) = host.parse::<IpAddr>() {
        Host::Block(addr, full_bits(addr))
    } else {
        let domain = host
            .trim_start_matches('*')
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if domain.is_empty() {
            return None;
        }
        Host::Domain(domain)
    };
    Some(Entry { host, port })
}

fn full_bits(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// Whether the first `bits` bits of `ip` and `block` agree (an IPv4
/// address never matches an IPv6 block, except as an IPv4-mapped one).
fn in_block(ip: IpAddr, block: IpAddr, bits: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    };
    match (ip, block) {
        (IpAddr::V4(ip), IpAddr::V4(block)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(block) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(block)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(block) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_themselves_and_their_subdomains() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let no_proxy = NoProxy::parse(list);
            for host in [
                "example.com",
                "www.example.com",
                "a.b.Example.COM",
                "example.com.",
            ] {
                assert!(no_proxy.matches(host, 443), "{list} should match {host}");
            }
            for host in ["myexample.com", "example.com.org", "com", "example.co"] {
                assert!(
                    !no_proxy.matches(host, 443),
                    "{list} should not match {host}"
                );
            }
        }
    }

    #[test]
    fn addresses_and_cidr_blocks() {
        let no_proxy = NoProxy::parse("127.0.0.1 ::1,192.168.0.0/16, fd00::/8,[2001:db8::5]");
        for host in [
            "127.0.0.1",
            "::1",
            "[::1]",
            "192.168.200.1",
            "fd12::1",
            "2001:db8::5",
            "::ffff:192.168.1.1",
        ] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        for host in [
            "127.0.0.2",
            "192.169.0.1",
            "fe00::1",
            "2001:db8::6",
            "localhost",
        ] {
            assert!(!no_proxy.matches(host, 80), "{host}");
        }
        // An address entry does not match a name, nor a name entry an address.
        assert!(!NoProxy::parse("127.0.0.1").matches("localhost", 80));
        assert!(!NoProxy::parse("localhost").matches("127.0.0.1", 80));
        assert!(NoProxy::parse("0.0.0.0/0").matches("203.0.113.9", 1));
        assert!(NoProxy::parse("::/0").matches("2001:db8::1", 1));
    }

    #[test]
    fn ports_restrict_an_entry() {
        let no_proxy = NoProxy::parse("example.com:8443,10.0.0.1:80,[::1]:9000");
        assert!(no_proxy.matches("www.example.com", 8443));
        assert!(!no_proxy.matches("www.example.com", 443));
        assert!(no_proxy.matches("10.0.0.1", 80));
        assert!(!no_proxy.matches("10.0.0.1", 81));
        assert!(no_proxy.matches("::1", 9000));
        assert!(!no_proxy.matches("::1", 9001));
    }

    #[test]
    fn star_empty_and_junk() {
        assert!(NoProxy::parse("*").matches("anything", 1));
        assert!(NoProxy::parse("a.example, *").matches("anything", 1));
        assert!(NoProxy::parse("").is_empty());
        assert!(NoProxy::parse(" , ,").is_empty());
        // Unparseable entries are skipped, the rest still count.
        let no_proxy = NoProxy::parse("10.0.0.0/99, host:notaport, [::1, ., example.org");
        assert!(!no_proxy.matches("10.0.0.1", 80));
        assert!(!no_proxy.matches("host", 80));
        assert!(no_proxy.matches("example.org", 80));
        assert!(!no_proxy.matches("org", 80));
    }
}
