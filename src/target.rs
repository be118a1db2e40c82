//! Where to connect: the URL rules of the spec. `http(s)://` map to `ws(s)://` with a note, a URL
//! without a scheme means `ws://`, credentials in the URL become Basic auth (and leave the URL that is
//! shown and sent), and anything else is a usage error naming the problem.

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
}

impl Target {
    pub fn parse(input: &str) -> Result<Target> {
        let input = input.trim();
        if input.is_empty() {
            return Err(Error::usage("the URL is empty"));
        }
        let mut notes = Vec::new();
        let with_scheme = if input.contains("://") {
            input.to_string()
        } else {
            format!("ws://{input}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| {
            Error::usage_hint(
                format!("invalid URL '{input}': {e}"),
                "a URL looks like ws://host:port/path or wss://host/path",
            )
        })?;
        let scheme = url.scheme().to_string();
        let secure = match scheme.as_str() {
            "ws" => false,
            "wss" => true,
            s @ ("http" | "https") => {
                let ws = if s == "http" { "ws" } else { "wss" };
                notes.push(format!("{s}:// URL mapped to {ws}://"));
                // Url refuses to change a "special" scheme into a non-special one, so rebuild it.
                let rest = &url.as_str()[s.len()..];
                url = Url::parse(&format!("{ws}{rest}"))
                    .map_err(|e| Error::usage(format!("invalid URL '{input}': {e}")))?;
                s == "https"
            }
            other => {
                return Err(Error::usage_hint(
                    format!("unsupported URL scheme '{other}' in '{input}'"),
                    "use ws://, wss://, http:// or https://",
                ))
            }
        };
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
        let host_for_header = match url.host() {
            Some(url::Host::Ipv6(a)) => format!("[{a}]"),
            _ => host.clone(),
        };
        let host_header = if port == default_port {
            host_for_header
        } else {
            format!("{host_for_header}:{port}")
        };
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
        })
    }

    /// Resolve a Location header against this target (for --location).
    pub fn redirect(&self, location: &str) -> Result<Target> {
        let joined = self.url.join(location).map_err(|e| {
            Error::protocol(format!(
                "the server redirected to an invalid Location '{location}': {e}"
            ))
        })?;
        let mut next = Target::parse(joined.as_str())?;
        if next.auth.is_none() && next.host == self.host && next.port == self.port {
            next.auth = self.auth.clone();
        }
        Ok(next)
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
