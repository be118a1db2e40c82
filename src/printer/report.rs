//! The handshake report as a person reads it: curl -v style request and response (`>` and `<`
//! prefixes), then the checks with pass/fail marks, the negotiation, timings and TLS. Also the
//! one-line summary shown on every connect.
//!
//! Almost everything here was said by the server (status, headers, body, Location, certificate
//! names, the proxy's reply, what it selected): every value goes into a line through
//! [`Shown`], so terminal safety does not depend on remembering which ones.

use std::fmt::Write;
use std::time::Duration;

use colored::Colorize;

use super::escape::Shown;
use crate::handshake::checks::Outcome;
use crate::handshake::Report;

fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.1} ms", d.as_secs_f64() * 1000.0),
        None => "-".into(),
    }
}

/// `connected to URL (subprotocol chat, no extensions) in 3.1 ms`, after the notes and redirect
/// hops when `preamble` (they are the first lines of the full report, so not twice with -v).
/// What deflate settled goes on an indented line of its own: on the first it made the line wrap.
pub fn summary(r: &Report, preamble: bool) -> String {
    let sub = match r.subprotocol() {
        Some(s) => format!("subprotocol {}", Shown(s)),
        None => "no subprotocol".into(),
    };
    let ext = r.extensions();
    let deflate = r.verdict.as_ref().and_then(|v| v.deflate);
    let ext = if ext.is_empty() {
        "no extensions".to_string()
    } else {
        Shown(&ext.join(", ")).to_string()
    };
    let via = match &r.proxy {
        Some(p) => format!(" via proxy {}", Shown(&p.url)),
        None => String::new(),
    };
    let mut o = String::new();
    // Shown even without -v: the user asked for one URL and is talking to another.
    if preamble {
        notes_and_redirects(&mut o, r);
    }
    let _ = write!(
        o,
        "{} {}{via} ({sub}, {ext}) in {}",
        "connected to".green(),
        Shown(&r.url).to_string().bold(),
        ms(r.timings.total)
    );
    if let Some(d) = deflate {
        let _ = write!(o, "\n  {}", format!("deflate: {}", d.describe()).dimmed());
    }
    o
}

fn notes(o: &mut String, notes: &[String]) {
    for n in notes {
        let _ = writeln!(o, "{} {}", "note:".yellow(), Shown(n));
    }
}

/// The notes, with `redirect 302 ws://a/ -> /b` for each hop before the notes that following it
/// gave rise to (a Location mapped from http://, a hop off TLS).
fn notes_and_redirects(o: &mut String, r: &Report) {
    let mut shown = 0;
    for hop in &r.redirects {
        let upto = hop.notes_before.clamp(shown, r.notes.len());
        notes(o, &r.notes[shown..upto]);
        shown = upto;
        let _ = writeln!(
            o,
            "{} {} {} -> {}",
            "redirect".yellow(),
            hop.status,
            Shown(&hop.from),
            Shown(&hop.location)
        );
    }
    notes(o, &r.notes[shown..]);
}

fn head(out: &mut String, prefix: &str, text: &str) {
    for line in text.split("\r\n") {
        if line.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} {}", prefix.dimmed(), Shown(line));
    }
}

/// A head as received: what is not UTF-8 shown as `\x9b`, not as U+FFFD.
fn head_bytes(out: &mut String, prefix: &str, raw: &[u8]) {
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let _ = write!(out, "{} ", prefix.dimmed());
        super::escape::escape_bytes_into(out, line);
        out.push('\n');
    }
}

/// The full report (inspect, -v).
pub fn full(r: &Report) -> String {
    let mut o = String::new();
    notes_and_redirects(&mut o, r);
    if let Some(p) = &r.proxy {
        let _ = writeln!(o, "{} {}", "* proxy".dimmed(), Shown(&p.url));
        head(&mut o, ">", &p.request);
        head(&mut o, "<", &p.response);
    }
    if let Some(peer) = &r.peer {
        let _ = writeln!(o, "{} connected to {}", "*".dimmed(), Shown(peer));
    }
    if let Some(t) = &r.tls {
        tls_lines(&mut o, t);
    }
    if let Some(h) = &r.http2 {
        http2_lines(&mut o, h);
    }
    if let Some(req) = &r.request {
        head(&mut o, ">", req);
    }
    if let Some(resp) = &r.response {
        response_lines(&mut o, resp);
    }
    if let Some(v) = &r.verdict {
        checks_table(
            &mut o,
            v,
            r.response.as_ref().is_some_and(|resp| {
                resp.status == 101 || (r.http2.is_some() && (200..300).contains(&resp.status))
            }),
        );
    }
    timings_table(&mut o, &r.timings);
    o
}

/// The HTTP/2 connection under an RFC 8441 WebSocket: the server's SETTINGS.
fn http2_lines(o: &mut String, h: &crate::handshake::h2::H2View) {
    let _ = writeln!(o, "{} HTTP/2 (RFC 8441 extended CONNECT)", "*".dimmed());
    let settings: Vec<String> = h
        .settings
        .iter()
        .map(|(n, v)| {
            let (name, default) = match n.strip_suffix(" (default)") {
                Some(name) => (name, " (default)"),
                None => (n.as_str(), ""),
            };
            match (name, *v) {
                ("MAX_CONCURRENT_STREAMS", u32::MAX) => format!("{name}=unlimited{default}"),
                _ => format!("{name}={v}{default}"),
            }
        })
        .collect();
    let settings = match settings.is_empty() {
        true => "(none: all defaults)".to_string(),
        false => settings.join(", "),
    };
    let _ = writeln!(
        o,
        "{}   server SETTINGS: {}",
        "*".dimmed(),
        Shown(&settings)
    );
}

/// The TLS session: version, the certificate's subject, issuer, names and validity.
fn tls_lines(o: &mut String, t: &crate::dial::TlsInfo) {
    let _ = writeln!(
        o,
        "{} TLS {}",
        "*".dimmed(),
        Shown(t.version.as_deref().unwrap_or("(version unknown)"))
    );
    if let Some(alpn) = &t.alpn {
        let _ = writeln!(o, "{}   ALPN:    {}", "*".dimmed(), Shown(alpn));
    }
    if let Some(s) = &t.subject {
        let _ = writeln!(o, "{}   subject: {}", "*".dimmed(), Shown(s));
    }
    if let Some(i) = &t.issuer {
        let _ = writeln!(o, "{}   issuer:  {}", "*".dimmed(), Shown(i));
    }
    if !t.names.is_empty() {
        let names = t.names.join(", ");
        let _ = writeln!(o, "{}   names:   {}", "*".dimmed(), Shown(&names));
    }
    if let (Some(a), Some(b)) = (&t.not_before, &t.not_after) {
        let _ = writeln!(
            o,
            "{}   valid:   {} to {}",
            "*".dimmed(),
            Shown(a),
            Shown(b)
        );
    }
    if t.insecure {
        let _ = writeln!(
            o,
            "{}",
            "*   certificate verification skipped (-k)".yellow()
        );
    }
}

/// The response head, and a refusal's body (its start).
fn response_lines(o: &mut String, resp: &crate::handshake::ResponseView) {
    if resp.head_raw.is_empty() {
        head(o, "<", &resp.head);
    } else {
        head_bytes(o, "<", &resp.head_raw);
    }
    if let Some(body) = resp.body.as_deref().filter(|b| !b.is_empty()) {
        const SHOWN: usize = 2048;
        let mut cut = body.len().min(SHOWN);
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        let _ = writeln!(o, "{}", "< (body)".dimmed());
        for line in body[..cut].lines() {
            let _ = writeln!(o, "{} {}", "<".dimmed(), Shown(line));
        }
        if cut < body.len() || resp.body_truncated {
            let _ = writeln!(o, "{}", "< … (body truncated)".dimmed());
        }
    }
}

/// The checks, and for a 101 the Sec-WebSocket-Accept computation.
fn checks_table(o: &mut String, v: &crate::handshake::checks::Verdict, upgraded: bool) {
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", "Checks".bold());
    for c in &v.checks {
        let mark = match c.outcome {
            Outcome::Pass => "✓".green().bold(),
            Outcome::Warn => "!".yellow().bold(),
            Outcome::Fail => "✗".red().bold(),
        };
        let _ = writeln!(o, "  {mark} {:<12} {}", c.name, Shown(&c.detail));
    }
    if upgraded && v.accept.key.is_empty() {
        let _ = writeln!(
            o,
            "  {:<14} none: RFC 8441 has no key/accept exchange (a 2xx status accepts)",
            "key/accept"
        );
    }
    if upgraded {
        let a = &v.accept;
        if !a.key.is_empty() {
            let _ = writeln!(o, "  {:<14} {}", "key sent", Shown(&a.key));
            let _ = writeln!(o, "  {:<14} {}", "expected", Shown(&a.expected));
            let _ = writeln!(
                o,
                "  {:<14} {}",
                "received",
                Shown(a.received.as_deref().unwrap_or("(none)"))
            );
        }
        // Subprotocol, extensions and what deflate settled are the checks' own lines: not twice.
    }
    // A failed check's hint is not repeated here: the error that ends the run prints it,
    // right under the error line (and `--json` carries it in both places, as data).
}

/// The timings of the steps that ran, in the order they happen.
fn timings_table(o: &mut String, t: &crate::handshake::Timings) {
    let rows: Vec<(&str, Duration)> = [
        // In the order they happen: the TLS context is built before dialing.
        ("tls setup", t.tls_setup),
        ("dns", t.dial.dns),
        ("tcp", t.dial.tcp),
        ("proxy", t.dial.proxy),
        ("tls", t.dial.tls),
        ("h2 preface", t.h2_preface),
        ("upgrade", t.upgrade),
        ("total", t.total),
    ]
    .into_iter()
    .filter_map(|(name, d)| Some((name, d?)))
    .collect();
    // Nothing was timed when the very first step failed: no empty table then.
    if !rows.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", "Timings".bold());
        for (name, d) in rows {
            let _ = writeln!(o, "  {name:<10} {:>10}", ms(Some(d)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dial::{ProxyHop, TlsInfo};
    use crate::handshake::{Redirect, ResponseView};

    /// A control the terminal-safety rule forbids (colour is off in these tests: no ESC at all).
    fn forbidden(c: char) -> bool {
        matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }

    #[test]
    fn everything_the_peer_said_is_escaped() {
        colored::control::set_override(false);
        let evil = "x\x1b]0;t\x07\u{9b}2J\u{202e}\ry";
        let r = Report {
            url: format!("ws://h/{evil}"),
            redirects: vec![Redirect {
                from: "ws://h/".into(),
                status: 302,
                location: evil.into(),
                notes_before: 0,
            }],
            proxy: Some(ProxyHop {
                url: "http://proxy/".into(),
                request: "CONNECT h:80 HTTP/1.1\r\n\r\n".into(),
                response: format!("HTTP/1.1 200 {evil}\r\nVia: {evil}\r\n\r\n"),
            }),
            tls: Some(TlsInfo {
                version: Some("TLSv1.3".into()),
                subject: Some(format!("CN={evil}")),
                issuer: Some(format!("O={evil}")),
                not_before: Some(evil.into()),
                not_after: Some(evil.into()),
                names: vec![evil.into()],
                insecure: false,
                ..TlsInfo::default()
            }),
            response: Some(ResponseView {
                status: 403,
                reason: evil.into(),
                headers: [("X-Evil".to_string(), evil.to_string())]
                    .into_iter()
                    .collect(),
                head: format!("HTTP/1.1 403 {evil}\r\nX-Evil: {evil}\r\n\r\n"),
                head_raw: Vec::new(),
                body: Some(format!("{evil}\n{evil}")),
                body_truncated: false,
            }),
            ..Report::default()
        };
        let shown = "x\\e]0;t\\x07\\u{9b}2J\\u{202e}\\ry";
        let full = full(&r);
        assert!(!full.chars().any(forbidden), "{full:?}");
        for line in [
            format!("redirect 302 ws://h/ -> {shown}"),
            format!("< HTTP/1.1 200 {shown}"),
            format!("subject: CN={shown}"),
            format!("issuer:  O={shown}"),
            format!("< X-Evil: {shown}"),
            format!("< {shown}"),
        ] {
            assert!(full.contains(&line), "{line:?} not in\n{full}");
        }
        let summary = summary(&r, true);
        assert!(!summary.chars().any(forbidden), "{summary:?}");
        assert!(summary.contains(&format!("ws://h/{shown}")), "{summary}");
    }
}
