//! Which proxy the environment asks for: curl's `*_PROXY` variables and `NO_PROXY` rules.

use std::net::IpAddr;

use super::*;

/// Which proxy the environment asks for, if any. `get` abstracts std::env::var so it is testable.
///
/// Like curl: `https_proxy` for wss and `http_proxy` for ws, then `all_proxy`;
/// each lowercase name wins over its uppercase form, and an empty value counts
/// as unset. `no_proxy`/`NO_PROXY` is checked first.
pub fn from_env(
    secure: bool,
    host: &str,
    port: u16,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<Result<Proxy, ProxyError>> {
    let lookup = |lower: &str| -> Option<(String, String)> {
        let upper = lower.to_ascii_uppercase();
        [lower.to_string(), upper].into_iter().find_map(|name| {
            get(&name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        })
    };
    if let Some((_, no_proxy)) = lookup("no_proxy") {
        if no_proxy_matches(&no_proxy, host, port) {
            return None;
        }
    }
    let scheme_var = if secure { "https_proxy" } else { "http_proxy" };
    let (name, value) = lookup(scheme_var).or_else(|| lookup("all_proxy"))?;
    Some(Proxy::parse(&value).map_err(|e| match e {
        ProxyError::BadUrl { url, why } => ProxyError::BadUrl {
            url,
            why: format!("{why} (it comes from the environment variable {name})"),
        },
        other => other,
    }))
}

/// Whether `host:port` is exempt from proxying by a NO_PROXY value (curl's rules):
/// comma- or space-separated entries; `*` matches everything; a name matches
/// itself and its subdomains, with or without a leading dot; an entry may carry
/// `:port`; IP literals match as addresses (also `addr/prefix` CIDR, as curl ≥ 7.86);
/// loopback gets no special treatment.
pub fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = normalize_host(host);
    let host_ip: Option<IpAddr> = host.parse().ok();
    for entry in no_proxy.split(|c: char| c == ',' || c.is_whitespace()) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return true;
        }
        let Some((pattern, entry_port)) = split_entry_port(entry) else {
            continue;
        };
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        let pattern = normalize_host(pattern);
        // "*.example.com" is not curl syntax, but it is common and unambiguous.
        let pattern = pattern
            .strip_prefix("*.")
            .or_else(|| pattern.strip_prefix('.'))
            .unwrap_or(&pattern);
        if pattern.is_empty() {
            continue;
        }
        let matched = match host_ip {
            // An IP target never matches by name suffix: ".0.0.1" must not catch 10.0.0.1.
            Some(ip) => match pattern.split_once('/') {
                Some((net, bits)) => cidr_contains(net, bits, ip),
                None => pattern.parse::<IpAddr>().is_ok_and(|p| p == ip),
            },
            None => {
                host == pattern
                    || (host.len() > pattern.len()
                        && host.ends_with(pattern)
                        && host.as_bytes()[host.len() - pattern.len() - 1] == b'.')
            }
        };
        if matched {
            return true;
        }
    }
    false
}

fn normalize_host(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(h);
    h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase()
}

/// Split a NO_PROXY entry into host and optional port; None if the port is garbage.
fn split_entry_port(entry: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        return match after {
            "" => Some((inside, None)),
            _ => Some((inside, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    // More than one ':' is a bare IPv6 literal, which cannot carry a port.
    match entry.matches(':').count() {
        1 => {
            let (h, p) = entry.split_once(':')?;
            Some((h, Some(p.parse().ok()?)))
        }
        _ => Some((entry, None)),
    }
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn env_proxy(secure: bool, host: &str, port: u16, pairs: &[(&str, &str)]) -> Option<String> {
        let get = env(pairs);
        from_env(secure, host, port, &get).map(|r| match r {
            Ok(p) => p.url,
            Err(e) => format!("ERR {e}"),
        })
    }

    #[test]
    fn env_picks_the_scheme_variable_then_all_proxy() {
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("HTTP_PROXY", "http://p:2"),
            ("ALL_PROXY", "socks5://a:3"),
        ];
        assert_eq!(
            env_proxy(true, "x", 443, &vars).as_deref(),
            Some("http://s:1")
        );
        assert_eq!(
            env_proxy(false, "x", 80, &vars).as_deref(),
            Some("http://p:2")
        );
        let only_all = [("ALL_PROXY", "socks5://a:3")];
        assert_eq!(
            env_proxy(true, "x", 443, &only_all).as_deref(),
            Some("socks5://a:3")
        );
        assert_eq!(
            env_proxy(false, "x", 80, &only_all).as_deref(),
            Some("socks5://a:3")
        );
        // wss never uses http_proxy, ws never uses https_proxy.
        assert_eq!(
            env_proxy(true, "x", 443, &[("HTTP_PROXY", "http://p:2")]),
            None
        );
        assert_eq!(
            env_proxy(false, "x", 80, &[("https_proxy", "http://s:1")]),
            None
        );
        assert_eq!(env_proxy(false, "x", 80, &[]), None);
    }

    #[test]
    fn env_lowercase_wins_and_empty_means_unset() {
        let vars = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
        ];
        assert_eq!(
            env_proxy(true, "x", 443, &vars).as_deref(),
            Some("http://lower:1")
        );
        let vars = [("https_proxy", ""), ("HTTPS_PROXY", "http://upper:2")];
        assert_eq!(
            env_proxy(true, "x", 443, &vars).as_deref(),
            Some("http://upper:2")
        );
        let vars = [("http_proxy", " "), ("all_proxy", "h:9")];
        assert_eq!(
            env_proxy(false, "x", 80, &vars).as_deref(),
            Some("http://h:9")
        );
        let vars = [
            ("all_proxy", "socks5h://l:1"),
            ("ALL_PROXY", "socks5h://u:1"),
        ];
        assert_eq!(
            env_proxy(false, "x", 80, &vars).as_deref(),
            Some("socks5h://l:1")
        );
    }

    #[test]
    fn env_no_proxy_bypasses() {
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("NO_PROXY", "internal.example,10.0.0.1"),
        ];
        assert_eq!(env_proxy(true, "api.internal.example", 443, &vars), None);
        assert_eq!(env_proxy(true, "10.0.0.1", 443, &vars), None);
        assert!(env_proxy(true, "example.com", 443, &vars).is_some());
        // Lowercase no_proxy wins over NO_PROXY.
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("no_proxy", "a.example"),
            ("NO_PROXY", "*"),
        ];
        assert_eq!(env_proxy(true, "a.example", 443, &vars), None);
        assert!(env_proxy(true, "b.example", 443, &vars).is_some());
        // Loopback is proxied unless listed, like curl.
        let vars = [("HTTP_PROXY", "http://s:1")];
        assert!(env_proxy(false, "127.0.0.1", 80, &vars).is_some());
        assert!(env_proxy(false, "localhost", 80, &vars).is_some());
    }

    #[test]
    fn env_bad_value_names_the_variable() {
        let got = env_proxy(true, "x", 443, &[("HTTPS_PROXY", "ftp://h")]).unwrap_or_default();
        assert!(got.starts_with("ERR "), "{got}");
        assert!(got.contains("HTTPS_PROXY"), "{got}");
    }

    #[test]
    fn no_proxy_names_and_suffixes() {
        assert!(no_proxy_matches("example.com", "example.com", 443));
        assert!(no_proxy_matches("example.com", "www.example.com", 443));
        assert!(no_proxy_matches(".example.com", "www.example.com", 443));
        assert!(no_proxy_matches(".example.com", "example.com", 443));
        assert!(no_proxy_matches("*.example.com", "a.b.example.com", 443));
        assert!(!no_proxy_matches("example.com", "badexample.com", 443));
        assert!(!no_proxy_matches("www.example.com", "example.com", 443));
        assert!(!no_proxy_matches("example.com", "example.com.evil", 443));
        assert!(no_proxy_matches("EXAMPLE.com", "Example.COM", 443));
        assert!(no_proxy_matches("example.com.", "example.com", 443));
        assert!(no_proxy_matches("example.com", "www.example.com.", 443));
        assert!(no_proxy_matches("localhost", "localhost", 80));
        assert!(!no_proxy_matches("", "localhost", 80));
        assert!(!no_proxy_matches(" , ,", "localhost", 80));
        assert!(!no_proxy_matches(".", "localhost", 80));
    }

    #[test]
    fn no_proxy_lists_and_wildcard() {
        assert!(no_proxy_matches("a.com, b.com ,c.com", "c.com", 1));
        assert!(no_proxy_matches("a.com b.com", "b.com", 1));
        assert!(no_proxy_matches("*", "anything", 1));
        assert!(no_proxy_matches("a.com,*", "anything", 1));
        assert!(no_proxy_matches(" * ", "127.0.0.1", 1));
        assert!(!no_proxy_matches("*a.com", "b.com", 1));
    }

    #[test]
    fn no_proxy_ports() {
        assert!(no_proxy_matches("example.com:8080", "example.com", 8080));
        assert!(!no_proxy_matches("example.com:8080", "example.com", 443));
        assert!(no_proxy_matches(".example.com:443", "a.example.com", 443));
        assert!(no_proxy_matches("127.0.0.1:9000", "127.0.0.1", 9000));
        assert!(!no_proxy_matches("127.0.0.1:9000", "127.0.0.1", 9001));
        assert!(no_proxy_matches("[::1]:9000", "::1", 9000));
        assert!(no_proxy_matches("[::1]:9000", "[::1]", 9000));
        assert!(!no_proxy_matches("[::1]:9000", "::1", 80));
        assert!(no_proxy_matches("[::1]", "::1", 80));
        // A garbled port voids the entry rather than widening it.
        assert!(!no_proxy_matches("example.com:http", "example.com", 80));
        assert!(!no_proxy_matches("[::1]x", "::1", 80));
    }

    #[test]
    fn no_proxy_ip_literals() {
        assert!(no_proxy_matches("127.0.0.1", "127.0.0.1", 1));
        assert!(!no_proxy_matches("127.0.0.1", "127.0.0.2", 1));
        assert!(!no_proxy_matches("0.0.1", "10.0.0.1", 1));
        assert!(!no_proxy_matches(".0.0.1", "10.0.0.1", 1));
        assert!(no_proxy_matches("::1", "::1", 1));
        assert!(no_proxy_matches("::1", "[::1]", 1));
        assert!(no_proxy_matches("0:0::1", "::1", 1));
        assert!(!no_proxy_matches("::1", "::2", 1));
        assert!(!no_proxy_matches("localhost", "127.0.0.1", 1));
        assert!(!no_proxy_matches("127.0.0.1", "localhost", 1));
    }

    #[test]
    fn no_proxy_cidr() {
        assert!(no_proxy_matches("10.0.0.0/8", "10.1.2.3", 1));
        assert!(!no_proxy_matches("10.0.0.0/8", "11.1.2.3", 1));
        assert!(no_proxy_matches("192.168.1.0/24", "192.168.1.200", 1));
        assert!(no_proxy_matches("0.0.0.0/0", "8.8.8.8", 1));
        assert!(no_proxy_matches("fd00::/8", "fd12::1", 1));
        assert!(!no_proxy_matches("fd00::/8", "fe80::1", 1));
        assert!(!no_proxy_matches("10.0.0.0/33", "10.0.0.1", 1));
        assert!(!no_proxy_matches("10.0.0.0/8", "::1", 1));
        assert!(!no_proxy_matches("10.0.0.0/8", "ten.example", 1));
    }
}
