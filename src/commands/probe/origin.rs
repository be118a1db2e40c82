//! The Origin matrix and `cookie-only`: the cross-site WebSocket hijacking questions beyond
//! "any Origin?". `origin-variants` takes the server's own origin (`-o`, else the URL's) and
//! tries what a sloppy allow-list lets through: the other scheme, another port, a look-alike
//! (punycode) host, the host as a prefix or a suffix of another, `file://`, two Origin headers;
//! the case change and the trailing dot are reported but are no risk (the same site). A server
//! that accepts any Origin makes the matrix moot (`origin-foreign` says so). `cookie-only` sends
//! the user's cookie with a foreign Origin and no other credential: accepted, any web page can
//! act as its visitors.

use futures_util::future::join_all;

use super::requests::{ask, head_with, Answer};
use super::upgrade::FOREIGN_ORIGIN;
use super::Probe;
use crate::printer::escape::escape;
use crate::probe_checks::{CheckId, Outcome, Status};

/// One look-alike: what it is, the Origin header values, and whether accepting it is a risk.
struct Variant {
    name: &'static str,
    origins: Vec<String>,
    risky: bool,
}

/// The server's own origin: `-o`, else the one a page of the URL's host would send.
fn own_origin(p: &Probe) -> String {
    if let Some(o) = &p.conn.origin {
        return o.clone();
    }
    let scheme = if p.target.secure { "https" } else { "http" };
    let default = if p.target.secure { 443 } else { 80 };
    match p.target.port == default {
        true => format!("{scheme}://{}", p.target.host),
        false => format!("{scheme}://{}:{}", p.target.host, p.target.port),
    }
}

fn variants(own: &str) -> Vec<Variant> {
    let Ok(url) = url::Url::parse(own) else {
        return Vec::new();
    };
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let scheme = url.scheme();
    let swapped = if scheme == "https" { "http" } else { "https" };
    let next_port = url.port_or_known_default().unwrap_or(80).wrapping_add(1);
    let v = |name, origin: String, risky| Variant {
        name,
        origins: vec![origin],
        risky,
    };
    let mut out = vec![
        v("scheme", format!("{swapped}://{host}{port}"), true),
        v("port", format!("{scheme}://{host}:{next_port}"), true),
        v(
            "case",
            format!("{scheme}://{}{port}", host.to_ascii_uppercase()),
            false,
        ),
        v("trailing dot", format!("{scheme}://{host}.{port}"), false),
        v(
            "suffix",
            format!("{scheme}://{host}.probe.wscope.invalid{port}"),
            true,
        ),
        v(
            "prefix",
            format!("{scheme}://wscope-probe{host}{port}"),
            true,
        ),
        v("file", "file://".into(), true),
    ];
    if let Some(alike) = look_alike(&host) {
        out.push(v("punycode", format!("{scheme}://{alike}{port}"), true));
    }
    out.push(Variant {
        name: "two Origin headers",
        origins: vec![FOREIGN_ORIGIN.to_string(), own.to_string()],
        risky: true,
    });
    out
}

/// The host with one Latin letter of its first label swapped for its Cyrillic twin, as
/// punycode (what a browser sends for such a page); None for an address.
fn look_alike(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let twins = [
        ('a', 'а'),
        ('e', 'е'),
        ('o', 'о'),
        ('p', 'р'),
        ('c', 'с'),
        ('x', 'х'),
    ];
    let label = host.split('.').next()?;
    let (i, twin) = label
        .char_indices()
        .find_map(|(i, c)| twins.iter().find(|t| t.0 == c).map(|t| (i, t.1)))?;
    let mut alike = host.to_string();
    alike.replace_range(i..i + 1, &twin.to_string());
    let url = url::Url::parse(&format!("https://{alike}/")).ok()?;
    url.host_str().map(str::to_string)
}

/// Whether a request with these Origin headers is upgraded.
async fn accepted(p: &Probe, id: CheckId, origins: &[String], keep: Keep) -> Answer {
    let head = head_with(p, "HTTP/1.1", |fields| {
        fields.retain(|(n, _)| {
            !n.eq_ignore_ascii_case("Origin")
                && (keep == Keep::All || !is_credential(n) || n.eq_ignore_ascii_case("Cookie"))
        });
        fields.extend(origins.iter().map(|o| ("Origin".to_string(), o.clone())));
    });
    let answer = ask(p, &head).await;
    p.note_contact(id, matches!(answer, Answer::Unreached(_) | Answer::Dropped));
    answer
}

#[derive(PartialEq, Clone, Copy)]
enum Keep {
    All,
    CookieOnly,
}

fn is_credential(name: &str) -> bool {
    ["authorization", "proxy-authorization", "cookie"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

fn upgraded(a: &Answer) -> bool {
    matches!(a, Answer::Status(101, _))
}

fn said(a: &Answer) -> String {
    match a {
        Answer::Status(s, _) => s.to_string(),
        Answer::Dropped => "a dropped connection".into(),
        Answer::Timeout => "no answer".into(),
        Answer::Unreached(e) => escape(&e.to_string()).into_owned(),
    }
}

pub async fn variants_check(p: &Probe) -> Outcome {
    let id = CheckId::OriginVariants;
    let own = own_origin(p);
    let base = accepted(p, id, std::slice::from_ref(&own), Keep::All).await;
    let foreign = accepted(p, id, &[FOREIGN_ORIGIN.to_string()], Keep::All).await;
    if let Answer::Unreached(e) = &base {
        return super::no_connection(id, e);
    }
    if !upgraded(&base) {
        return Outcome::new(
            id,
            Status::NotApplicable,
            format!(
                "its own origin {} was refused too ({}): pass -o with an Origin it accepts",
                escape(&own),
                said(&base)
            ),
        );
    }
    if upgraded(&foreign) {
        return Outcome::new(
            id,
            Status::NotApplicable,
            "it accepts any Origin (see origin-foreign): no look-alike is needed",
        );
    }
    let all = variants(&own);
    let answers = join_all(all.iter().map(|v| accepted(p, id, &v.origins, Keep::All))).await;
    let mut risky = Vec::new();
    let mut benign = Vec::new();
    for (v, a) in all.iter().zip(&answers) {
        if upgraded(a) {
            let line = format!("{} ({})", escape(&v.origins.join(" + ")), v.name);
            match v.risky {
                true => risky.push(line),
                false => benign.push(line),
            }
        }
    }
    let same = match benign.is_empty() {
        true => String::new(),
        false => format!("; accepted as the same site: {}", benign.join(", ")),
    };
    match risky.is_empty() {
        true => Outcome::new(
            id,
            Status::Pass,
            format!(
                "refused every look-alike of {} ({} tried){same}",
                escape(&own),
                all.len()
            ),
        ),
        false => Outcome::new(
            id,
            Status::Warn,
            format!(
                "accepted {} of {} look-alikes of {}: {}{same}; an allow-list compares the whole \
                 origin (scheme, host, port) exactly",
                risky.len(),
                all.len(),
                escape(&own),
                risky.join(", ")
            ),
        ),
    }
}

pub async fn cookie_only(p: &Probe) -> Outcome {
    let id = CheckId::CookieOnly;
    if p.conn.headers.get("Cookie").is_none() {
        return Outcome::new(
            id,
            Status::NotApplicable,
            "no cookie given: pass --cookie 'name=value' (or -H 'Cookie: ...') with a session's cookie",
        );
    }
    let answer = accepted(p, id, &[FOREIGN_ORIGIN.to_string()], Keep::CookieOnly).await;
    match answer {
        Answer::Status(101, _) => Outcome::new(
            id,
            Status::Fail,
            format!(
                "accepted Origin {FOREIGN_ORIGIN} with only the cookie as credential: any web page \
                 its users visit can open this WebSocket as them (cross-site WebSocket hijacking); \
                 check Origin, or require a token the page must send"
            ),
        ),
        Answer::Unreached(e) => super::no_connection(id, &e),
        a => Outcome::new(
            id,
            Status::Pass,
            format!("refused the cookie from a foreign Origin ({})", said(&a)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_differ_from_the_host_and_are_punycode() {
        let alike = look_alike("app.example.test").expect("a twin for 'a'");
        assert!(
            alike.starts_with("xn--") && alike.ends_with(".example.test"),
            "{alike}"
        );
        assert_eq!(look_alike("127.0.0.1"), None);
        let v = variants("https://app.example.test");
        let names: Vec<&str> = v.iter().map(|v| v.name).collect();
        assert!(
            names.contains(&"punycode") && names.contains(&"file"),
            "{names:?}"
        );
        assert_eq!(v[0].origins, ["http://app.example.test"]);
        assert_eq!(v[1].origins, ["https://app.example.test:444"]);
    }
}
