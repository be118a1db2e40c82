//! Where to connect: the URL rules of the spec. `http(s)://` map to `ws(s)://` with a note, a URL
//! without a scheme means `ws://`, credentials in the URL become Basic auth (and leave the URL that is
//! shown and sent), and anything else is a usage error naming the problem. `ws+unix:///path.sock:/req`
//! (wscat's form) names a server on a Unix domain socket.

use std::path::PathBuf;

use percent_encoding::{utf8_percent_encode, CONTROLS};
use url::Url;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The ws:// or wss:// URL, without credentials.
    pub url: Url,
    pub secure: bool,
    /// Host for DNS and TLS SNI (no brackets around IPv6 literals).
    pub host: String,
    pub port: u16,
    /// Value of the Host header: host, plus the port when it is not the scheme's default.
    pub host_header: String,
    /// Path and query, as sent in the request line.
    pub resource: String,
    /// user:pass found in the URL.
    pub auth: Option<(String, String)>,
    /// Things we changed that the user should know about.
    pub notes: Vec<String>,
    /// `ws+unix://` targets: the socket to connect to instead of host:port (which are then
    /// `localhost` and 80, for the Host header only).
    pub unix_socket: Option<PathBuf>,
}

/// wscat's scheme for a server on a Unix domain socket.
const UNIX_SCHEME: &str = "ws+unix:";

impl Target {
    pub fn parse(input: &str) -> Result<Target> {
        let input = input.trim();
        if input.is_empty() {
            return Err(Error::usage("the URL is empty"));
        }
        if is_unix_url(input) {
            return Target::parse_unix(input);
        }
        check_not_a_slip(input)?;
        let mut notes = Vec::new();
        let with_scheme = if input.contains("://") {
            input.to_string()
        } else if input.starts_with(':') {
            // HTTPie's shorthand: `:9001/path` is this machine.
            format!("ws://localhost{input}")
        } else {
            format!("ws://{input}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| {
            Error::usage_hint(
                format!("invalid URL '{input}': {e}"),
                "a URL looks like ws://host:port/path or wss://host/path",
            )
        })?;
        let secure = ws_scheme(&mut url, input, &mut notes)?;
        // The URL standard skips extra slashes in ws/wss URLs ("wss:///path" has host "path");
        // a user who typed nothing between "//" and "/" forgot the host.
        let authority = with_scheme.split_once("://").map_or("", |(_, rest)| rest);
        if authority.is_empty() || authority.starts_with(['/', '?', '#']) {
            return Err(Error::usage_hint(
                format!("the URL '{input}' has no host"),
                "a URL looks like ws://host:port/path",
            ));
        }
        let host = host_of(&url, input, authority, &mut notes)?;
        let auth = if !url.username().is_empty() || url.password().is_some() {
            let user = percent_decode(url.username());
            let pass = url.password().map(percent_decode).unwrap_or_default();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            Some((user, pass))
        } else {
            None
        };
        let default_port = if secure { 443 } else { 80 };
        let port = url.port().unwrap_or(default_port);
        let host_header = host_header(&url, &host, port, default_port);
        url.set_fragment(None);
        let resource = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Ok(Target {
            url,
            secure,
            host,
            port,
            host_header,
            resource,
            auth,
            notes,
            unix_socket: None,
        })
    }

    /// `ws+unix:///path/to.sock:/request/path?query`: the socket path runs up to the first ':'
    /// (none: the request path is `/`). The Host header is `localhost`, as wscat sends.
    fn parse_unix(input: &str) -> Result<Target> {
        let usage = |why: &str| {
            Error::usage_hint(
                format!("invalid Unix socket URL '{input}': {why}"),
                "write it as ws+unix:///path/to.sock:/request/path",
            )
        };
        let rest = input.get(UNIX_SCHEME.len()..).unwrap_or("");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (socket, resource) = match rest.split_once(':') {
            Some((s, r)) => (s, r),
            None => (rest, ""),
        };
        if socket.is_empty() || socket == "/" {
            return Err(usage("it names no socket path"));
        }
        if !socket.starts_with('/') {
            return Err(usage("the socket path must be absolute"));
        }
        let resource = match resource {
            "" => "/".to_string(),
            r if r.starts_with('/') => r.to_string(),
            r if r.starts_with('?') => format!("/{r}"),
            _ => return Err(usage("the request path after ':' must start with '/'")),
        };
        // The fragment is never sent, as for ws:// URLs; the request line is ASCII, as it is for
        // ws:// URLs (percent-encoded UTF-8).
        let resource = resource.split('#').next().unwrap_or("/");
        let resource = utf8_percent_encode(resource, CONTROLS).to_string();
        if resource
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(usage(
                "the request path contains spaces or control characters",
            ));
        }
        let url = Url::parse(&format!("ws+unix://{socket}:{resource}"))
            .map_err(|e| usage(&e.to_string()))?;
        Ok(Target {
            url,
            secure: false,
            host: "localhost".into(),
            port: 80,
            host_header: "localhost".into(),
            resource,
            auth: None,
            notes: Vec::new(),
            unix_socket: Some(PathBuf::from(percent_decode(socket))),
        })
    }

    /// Resolve a Location header against this target (for --location). A bad Location is the
    /// server's fault, so it is a handshake failure (exit 5), never a usage error.
    pub fn redirect(&self, location: &str) -> Result<Target> {
        let bad = |why: String| Error::Handshake {
            message: format!("the server redirected to an invalid Location '{location}': {why}"),
            hint: None,
        };
        let location = location.trim();
        let has_scheme = location
            .split_once(':')
            .is_some_and(|(s, _)| !s.is_empty() && !s.contains('/') && !s.contains('?'));
        let to_unix = has_scheme && is_unix_url(location);
        if to_unix && self.unix_socket.is_none() {
            // A remote server must not be able to steer us onto a local socket.
            return Err(bad(
                "a network server may not redirect to a Unix socket".into()
            ));
        }
        let mut next = match &self.unix_socket {
            // A relative Location stays on the same socket; resolve it as a path.
            Some(socket) if !has_scheme => {
                let base = Url::parse(&format!("ws://localhost{}", self.resource))
                    .map_err(|e| bad(e.to_string()))?;
                let joined = base.join(location).map_err(|e| bad(e.to_string()))?;
                let resource = match joined.query() {
                    Some(q) => format!("{}?{q}", joined.path()),
                    None => joined.path().to_string(),
                };
                let socket = socket.to_string_lossy();
                Target::parse(&format!("{UNIX_SCHEME}//{socket}:{resource}"))
            }
            _ => {
                let joined = if has_scheme {
                    Url::parse(location)
                } else {
                    self.url.join(location)
                }
                .map_err(|e| bad(e.to_string()))?;
                Target::parse(joined.as_str())
            }
        }
        .map_err(|e| bad(e.to_string()))?;
        // URL credentials stay with the same server, and never leave TLS: on a plain connection
        // anyone on the path could read them.
        let downgrade = self.secure && !next.secure;
        if downgrade {
            // Even credentials the Location itself names: they would cross in clear text.
            next.auth = None;
        } else if next.auth.is_none()
            && next.host == self.host
            && next.port == self.port
            && next.unix_socket == self.unix_socket
        {
            next.auth = self.auth.clone();
        }
        Ok(next)
    }
}

/// Two slips of the keyboard that would otherwise dial somewhere unexpected: a bare port number
/// (`9001` is the IPv4 address 0.0.35.41 to the URL standard) and a scheme missing its colon or a
/// slash (`ws//host` would dial a host named `ws`).
fn check_not_a_slip(input: &str) -> Result<()> {
    let digits = input.bytes().take_while(u8::is_ascii_digit).count();
    let after = input.get(digits..).unwrap_or("");
    if digits > 0 && (after.is_empty() || after.starts_with(['/', '?'])) {
        let port = input.get(..digits).unwrap_or(input);
        return Err(Error::usage_hint(
            format!("'{input}' is not an address: a bare number reads as an IPv4 address"),
            format!("for port {port} on this machine, write ws://localhost:{input} (or :{input})"),
        ));
    }
    let lower = input.to_ascii_lowercase();
    for scheme in ["wss", "ws", "https", "http"] {
        let Some(rest) = lower.strip_prefix(scheme) else {
            continue;
        };
        let typo = rest.strip_prefix("//").or_else(|| {
            rest.strip_prefix(":/")
                .filter(|r| !r.starts_with('/') && !r.is_empty())
        });
        if let Some(len) = typo.map(str::len) {
            let host = input.get(input.len() - len..).unwrap_or("");
            return Err(Error::usage_hint(
                format!("'{input}' is missing part of its scheme separator"),
                format!("did you mean {scheme}://{host}?"),
            ));
        }
    }
    Ok(())
}

/// ws or wss; http(s):// is mapped to ws(s):// with a note, any other scheme is a usage error.
fn ws_scheme(url: &mut Url, input: &str, notes: &mut Vec<String>) -> Result<bool> {
    let scheme = url.scheme().to_string();
    Ok(match scheme.as_str() {
        "ws" => false,
        "wss" => true,
        s @ ("http" | "https") => {
            let ws = if s == "http" { "ws" } else { "wss" };
            notes.push(format!("{s}:// URL mapped to {ws}://"));
            // Url refuses to change a "special" scheme into a non-special one, so rebuild it.
            let rest = &url.as_str()[s.len()..];
            *url = Url::parse(&format!("{ws}{rest}"))
                .map_err(|e| Error::usage(format!("invalid URL '{input}': {e}")))?;
            s == "https"
        }
        other => {
            return Err(Error::usage_hint(
                format!("unsupported URL scheme '{other}' in '{input}'"),
                "use ws://, wss://, http:// or https://",
            ))
        }
    })
}

/// The host, without brackets for IPv6; an international name noted as the punycode it is sent as.
fn host_of(url: &Url, input: &str, authority: &str, notes: &mut Vec<String>) -> Result<String> {
    let host = match url.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => {
            return Err(Error::usage_hint(
                format!("the URL '{input}' has no host"),
                "a URL looks like ws://host:port/path",
            ))
        }
    };
    if host.is_empty() {
        return Err(Error::usage(format!("the URL '{input}' has no host")));
    }
    // The URL standard already turned an international name into its ASCII (punycode) form,
    // which is what DNS, TLS SNI and the Host header need; say so, since it looks different.
    if !authority.is_ascii() && host.contains("xn--") {
        let unicode = url::quirks::domain_to_unicode(&host);
        if unicode != host {
            notes.push(format!(
                "the international host name {unicode} is sent as {host} (IDNA)"
            ));
        }
    }
    Ok(host)
}

/// The Host header: IPv6 bracketed, the port unless it is the scheme's default.
fn host_header(url: &Url, host: &str, port: u16, default_port: u16) -> String {
    let host_for_header = match url.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        _ => host.to_string(),
    };
    if port == default_port {
        host_for_header
    } else {
        format!("{host_for_header}:{port}")
    }
}

/// True for wscat's `ws+unix:` URLs, whatever the case. By characters, never by bytes: the input
/// is the user's or a server's, and may hold any character at any position.
fn is_unix_url(s: &str) -> bool {
    s.get(..UNIX_SCHEME.len())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(UNIX_SCHEME))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// What must hold for any URL a user types and any Location a server sends: no panic, a usage
/// error (exit 2) for a bad URL and a handshake failure (exit 5) for a bad Location, and what goes
/// on the wire (the request target, the Host header, the DNS/SNI name) is ASCII without spaces or
/// controls. The fuzz target `target_url` and a proptest below both run it.
#[doc(hidden)]
pub fn check_properties(input: &str, location: &str) {
    let target = match Target::parse(input) {
        Ok(t) => t,
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{input:?}: {e}");
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_wire_safe(&target, input);
    match target.redirect(location) {
        Ok(next) => {
            assert_wire_safe(&next, location);
            assert!(
                target.unix_socket.is_some() || next.unix_socket.is_none(),
                "{input:?} -> {location:?} reached a Unix socket"
            );
            assert!(
                !(target.secure && !next.secure && next.auth.is_some()),
                "{input:?} -> {location:?} keeps credentials without TLS"
            );
        }
        Err(e) => assert_eq!(e.exit_code(), 5, "{input:?} -> {location:?}: {e}"),
    }
}

fn assert_wire_safe(t: &Target, from: &str) {
    let clean = |s: &str| s.is_ascii() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    assert!(!t.host.is_empty(), "{from:?}: no host");
    assert!(clean(&t.host), "{from:?}: host {:?}", t.host);
    assert!(clean(&t.host_header), "{from:?}: Host {:?}", t.host_header);
    assert!(t.resource.starts_with('/'), "{from:?}: {:?}", t.resource);
    assert!(clean(&t.resource), "{from:?}: resource {:?}", t.resource);
    assert!(t.url.username().is_empty() && t.url.password().is_none());
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_url_and_location_keep_the_properties(input in "\\PC{0,40}", location in "\\PC{0,40}") {
            check_properties(&input, &location);
        }

        #[test]
        fn url_like_input_keeps_the_properties(
            scheme in "(ws|wss|http|https|WS\\+UNIX|ws\\+unix|ftp|)(:|://|:/)",
            userinfo in "([a-zé%:]{0,6}@)?",
            host in "[a-zA-Z0-9.\\[\\]:üé例え\\-]{0,12}",
            rest in "[/?#a-z:é% ]{0,12}",
            location in "(ws://|wss://|//|/|ws\\+unix://|)[a-zé/.:@?#]{0,16}",
        ) {
            check_properties(&format!("{scheme}{userinfo}{host}{rest}"), &location);
        }
    }

    #[test]
    fn plain_ws_url() {
        let t = Target::parse("ws://example.test:8080/chat?room=1#frag").unwrap();
        assert!(!t.secure);
        assert_eq!(t.host, "example.test");
        assert_eq!(t.port, 8080);
        assert_eq!(t.host_header, "example.test:8080");
        assert_eq!(t.resource, "/chat?room=1");
        assert!(t.notes.is_empty());
    }

    #[test]
    fn no_scheme_means_ws() {
        let t = Target::parse("localhost:9001").unwrap();
        assert_eq!(t.url.as_str(), "ws://localhost:9001/");
        assert_eq!(t.resource, "/");
    }

    #[test]
    fn colon_port_is_localhost_and_a_bare_number_is_refused() {
        let t = Target::parse(":9001/chat?x=1").unwrap();
        assert_eq!(t.url.as_str(), "ws://localhost:9001/chat?x=1");
        assert_eq!(t.host_header, "localhost:9001");
        assert_eq!(t.resource, "/chat?x=1");
        for (input, hint) in [
            ("9001", "ws://localhost:9001"),
            ("9001/chat", "ws://localhost:9001/chat"),
            ("80", "ws://localhost:80"),
        ] {
            let e = Target::parse(input).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{input}");
            assert!(e.hint().is_some_and(|h| h.contains(hint)), "{input}: {e:?}");
        }
        // Names that merely start with digits are names.
        assert_eq!(Target::parse("9gag.test").unwrap().host, "9gag.test");
        assert_eq!(Target::parse("1.2.3.4:80").unwrap().host, "1.2.3.4");
    }

    #[test]
    fn a_scheme_missing_its_colon_or_a_slash_gets_the_fix() {
        for (input, fixed) in [
            ("ws//echo.test/x", "ws://echo.test/x"),
            ("WSS//Echo.test", "wss://Echo.test"),
            ("ws:/echo.test", "ws://echo.test"),
            ("https//h", "https://h"),
        ] {
            let e = Target::parse(input).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{input}");
            assert!(
                e.hint().is_some_and(|h| h.contains(fixed)),
                "{input}: {e:?}"
            );
        }
        // A host named `ws` is still a host.
        assert_eq!(Target::parse("ws:8080").unwrap().host, "ws");
    }

    #[test]
    fn http_schemes_map_with_a_note() {
        let t = Target::parse("https://example.test/x").unwrap();
        assert!(t.secure);
        assert_eq!(t.port, 443);
        assert_eq!(t.host_header, "example.test");
        assert_eq!(t.url.as_str(), "wss://example.test/x");
        assert_eq!(t.notes, ["https:// URL mapped to wss://"]);
    }

    #[test]
    fn credentials_move_to_auth() {
        let t = Target::parse("ws://al%40ice:s3cr%3At@h/").unwrap();
        assert_eq!(t.auth, Some(("al@ice".into(), "s3cr:t".into())));
        assert_eq!(t.url.as_str(), "ws://h/");
    }

    #[test]
    fn ipv6_literal() {
        let t = Target::parse("ws://[::1]:9000/").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.host_header, "[::1]:9000");
    }

    #[test]
    fn bad_scheme_and_missing_host_are_usage_errors() {
        let e = Target::parse("ftp://h/").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("unsupported URL scheme 'ftp'"));
        let e = Target::parse("ws://").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("host"), "{e}");
        let e = Target::parse("wss:///path").unwrap_err();
        assert!(e.to_string().contains("has no host"), "{e}");
    }

    #[test]
    fn relative_redirects() {
        let t = Target::parse("ws://u:p@h:1/a/b").unwrap();
        let n = t.redirect("/c").unwrap();
        assert_eq!(n.url.as_str(), "ws://h:1/c");
        assert_eq!(n.auth, t.auth);
        let n = t.redirect("wss://other/").unwrap();
        assert!(n.secure);
        assert_eq!(n.auth, None);
    }

    #[test]
    fn credentials_never_follow_a_redirect_off_tls() {
        let t = Target::parse("wss://u:p@h:8443/a").unwrap();
        assert_eq!(t.redirect("ws://h:8443/b").unwrap().auth, None);
        assert_eq!(
            t.redirect("/b").unwrap().auth,
            t.auth,
            "same server, still TLS"
        );
        assert_eq!(t.redirect("wss://h:8443/c").unwrap().auth, t.auth);
    }

    #[test]
    fn unix_socket_urls() {
        let t = Target::parse("ws+unix:///tmp/app.sock:/chat?x=1").unwrap();
        assert_eq!(t.unix_socket, Some(PathBuf::from("/tmp/app.sock")));
        assert_eq!(t.resource, "/chat?x=1");
        assert_eq!(t.host_header, "localhost");
        assert_eq!(t.url.as_str(), "ws+unix:///tmp/app.sock:/chat?x=1");
        assert!(!t.secure);
        let t = Target::parse("WS+UNIX:///run/a%20b.sock").unwrap();
        assert_eq!(t.unix_socket, Some(PathBuf::from("/run/a b.sock")));
        assert_eq!(t.resource, "/");
        for bad in [
            "ws+unix://",
            "ws+unix:///",
            "ws+unix://rel.sock:/x",
            "ws+unix:///s:x",
        ] {
            let e = Target::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().contains("Unix socket URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn unix_socket_redirects_stay_on_the_socket() {
        let t = Target::parse("ws+unix:///tmp/app.sock:/a/b").unwrap();
        let n = t.redirect("c?q=1").unwrap();
        assert_eq!(n.unix_socket, t.unix_socket);
        assert_eq!(n.resource, "/a/c?q=1");
        let n = t.redirect("/d").unwrap();
        assert_eq!(n.url.as_str(), "ws+unix:///tmp/app.sock:/d");
        let n = t.redirect("ws://127.0.0.1:9/x").unwrap();
        assert_eq!(n.unix_socket, None);
        assert_eq!(n.port, 9);
    }

    #[test]
    fn international_host_names_go_on_the_wire_as_punycode() {
        let t = Target::parse("wss://müller.de/").unwrap();
        assert_eq!(t.host, "xn--mller-kva.de");
        assert_eq!(t.host_header, "xn--mller-kva.de");
        assert_eq!(t.url.as_str(), "wss://xn--mller-kva.de/");
        assert!(
            t.notes
                .iter()
                .any(|n| n.contains("müller.de") && n.contains("xn--mller-kva.de")),
            "{:?}",
            t.notes
        );
        let t = Target::parse("例え.jp:9000/チャット").unwrap();
        assert_eq!(t.host, "xn--r8jz45g.jp");
        assert_eq!(t.host_header, "xn--r8jz45g.jp:9000");
        assert!(t.resource.is_ascii(), "{}", t.resource);
        // Short inputs whose 8th byte falls inside a character.
        for input in ["ws://ü", "wss://ü/", "wé", "ws+unié"] {
            let _ = Target::parse(input);
        }
        let t = Target::parse("ws+unix:///tmp/s:/é").unwrap();
        assert_eq!(t.resource, "/%C3%A9");
    }

    #[test]
    fn international_redirects_do_not_panic() {
        let t = Target::parse("ws://h:1/a").unwrap();
        let n = t.redirect("ws://abé/").unwrap();
        assert_eq!(n.host, "xn--ab-cja");
        assert_eq!(t.redirect("/é").unwrap().resource, "/%C3%A9");
        for location in ["wé", "ws+unié", "ws:é", "é:/", "ws+unix:é"] {
            let _ = t.redirect(location);
        }
    }

    #[test]
    fn bad_redirects_are_handshake_failures() {
        let t = Target::parse("ws://h:1/a").unwrap();
        let e = t.redirect("ws+unix:///var/run/docker.sock:/").unwrap_err();
        assert_eq!(e.exit_code(), 5);
        assert!(e.to_string().contains("Unix socket"), "{e}");
        let e = t.redirect("ftp://h/").unwrap_err();
        assert_eq!(e.exit_code(), 5);
        assert!(e.to_string().contains("'ftp://h/'"), "{e}");
        assert_eq!(t.redirect("//other:2/x").unwrap().host, "other");
    }
}
