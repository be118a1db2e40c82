//! The opening handshake, done by us rather than by tungstenite (TECH-NOTES.md says why): dial, write
//! the upgrade request, read and check the response, follow redirects with `-L`, and record all of it
//! in a [`Report`] for the printer. On success the caller gets the raw stream plus any bytes that came
//! in behind the 101, ready to hand to tokio-tungstenite.

pub mod accept;
pub mod accept_h2;
pub mod checks;
pub mod h2;
mod hints;
mod options;
pub mod request;
pub mod response;

pub use options::{Http2, Options};

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout_at;

use crate::dial::{self, BoxStream, DialTimings, ProxyHop, TlsConfig, TlsInfo};
use crate::error::{Error, Result};
use crate::target::Target;
use checks::Verdict;

#[derive(Debug, Clone, Serialize)]
pub struct Redirect {
    pub from: String,
    pub status: u16,
    pub location: String,
    /// How many of the report's notes came before this hop: the rest arose from following it
    /// (the Location mapped from http://, leaving TLS), and are shown after its line.
    #[serde(skip)]
    pub notes_before: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseView {
    pub status: u16,
    pub reason: String,
    pub headers: crate::http::Headers,
    pub head: String,
    /// `head`'s bytes exactly, for a terminal to escape (empty: show `head`).
    #[serde(skip)]
    pub head_raw: Vec<u8>,
    /// A refusal's body (lossy UTF-8), truncated to response::MAX_BODY.
    pub body: Option<String>,
    pub body_truncated: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    #[serde(flatten)]
    pub dial: DialTimings,
    /// Building the TLS context: reading the trust roots and the client identity.
    #[serde(serialize_with = "dial::ms_opt")]
    pub tls_setup: Option<Duration>,
    /// The HTTP/2 preface and SETTINGS exchange (`--http2`).
    #[serde(serialize_with = "dial::ms_opt")]
    pub h2_preface: Option<Duration>,
    #[serde(serialize_with = "dial::ms_opt")]
    pub upgrade: Option<Duration>,
    #[serde(serialize_with = "dial::ms_opt")]
    pub total: Option<Duration>,
}

/// Everything learnt while opening the connection, whether it worked or not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub url: String,
    pub notes: Vec<String>,
    pub redirects: Vec<Redirect>,
    pub peer: Option<String>,
    pub proxy: Option<ProxyHop>,
    pub request: Option<String>,
    /// The request's headers as sent (the same as `request`, without the text to re-read).
    #[serde(skip)]
    pub request_headers: crate::http::Headers,
    pub response: Option<ResponseView>,
    #[serde(flatten)]
    pub verdict: Option<Verdict>,
    pub timings: Timings,
    pub tls: Option<TlsInfo>,
    /// The RFC 8441 exchange, when HTTP/2 was spoken (`--http2`).
    pub http2: Option<h2::H2View>,
}

impl Report {
    pub fn subprotocol(&self) -> Option<&str> {
        self.verdict
            .as_ref()?
            .subprotocol
            .selected
            .first()
            .map(String::as_str)
    }

    pub fn extensions(&self) -> Vec<String> {
        self.verdict
            .as_ref()
            .map(|v| v.extensions.selected.clone())
            .unwrap_or_default()
    }
}

/// A connection whose upgrade succeeded.
pub struct Upgraded {
    pub stream: BoxStream,
    /// Bytes read behind the response head: the first WebSocket frames.
    pub leftover: Vec<u8>,
    /// `--dump-h2`: the HTTP/2 frames beneath the WebSocket, for its tap.
    pub h2_dump: Option<crate::wire::h2dump::H2Dump>,
}

/// Open a WebSocket connection to `target`. The report is returned in every case, so a failed
/// upgrade can be shown in full.
pub async fn open(target: &Target, args: &Options) -> (Report, Result<Upgraded>) {
    let mut report = Report {
        url: target.url.to_string(),
        notes: target.notes.clone(),
        ..Report::default()
    };
    let mut tls_config: Option<TlsConfig> = None;
    let mut current = target.clone();
    let mut hops = 0;
    // Credentials are for the server the user named: a redirect elsewhere gets none (as curl).
    let elsewhere = args.without_credentials();
    // One deadline for the whole upgrade: every redirect hop and every refusal body in it.
    let deadline = tokio::time::Instant::now() + args.connect_timeout;
    loop {
        let hop_args = if same_origin(target, &current) {
            args
        } else {
            &elsewhere
        };
        match attempt(&current, hop_args, &mut tls_config, &mut report, deadline).await {
            Ok(Some(up)) => return (report, Ok(up)),
            Ok(None) => {}
            Err(e) => return (report, Err(e)),
        }
        // A redirect to follow: attempt() only returns Ok(None) for a 3xx with -L and a Location.
        hops += 1;
        let next = match follow(&current, hops, args.max_redirects, &mut report) {
            Ok(next) => next,
            Err(e) => return stop(report, e),
        };
        let sending =
            same_origin(target, &current) && (args.has_credentials() || current.auth.is_some());
        note_the_hop(
            &current,
            &next,
            sending && !same_origin(target, &next),
            &mut report,
        );
        current = next;
    }
}

/// The redirect in `report.response`, checked against the limit and for loops, and listed in
/// the report.
fn follow(current: &Target, hops: u32, limit: u32, report: &mut Report) -> Result<Target> {
    let resp = report.response.as_ref();
    let location = resp
        .and_then(|r| r.headers.get("Location"))
        .unwrap_or_default()
        .to_string();
    let status = resp.map(|r| r.status).unwrap_or(0);
    // A hop beyond the limit is refused, so it is named in the error, not listed as followed.
    if hops > limit {
        return Err(Error::Handshake {
            message: format!(
                "too many redirects: the limit is {limit} (--max-redirects) and the \
                 server redirects again, to {location}"
            ),
            hint: Some(format!(
                "raise the limit with --max-redirects N (now {limit}), or connect to \
                 the last URL directly"
            )),
        });
    }
    report.redirects.push(Redirect {
        from: current.url.to_string(),
        status,
        location: location.clone(),
        notes_before: report.notes.len(),
    });
    let next = current.redirect(&location)?;
    if report.redirects.iter().any(|r| r.from == next.url.as_str()) {
        return Err(Error::Handshake {
            message: format!(
                "redirect loop: {} was already visited (after {hops} of at most {limit} \
                 redirects, --max-redirects)",
                next.url
            ),
            hint: Some("the server redirects in a circle: check the URL".into()),
        });
    }
    report.url = next.url.to_string();
    report.notes.extend(next.notes.iter().cloned());
    Ok(next)
}

/// Notes on a hop: leaving TLS, and credentials left behind (`elsewhere`: the hop leaves the
/// server the user named, with credentials that were being sent; leaving TLS always does).
fn note_the_hop(current: &Target, next: &Target, elsewhere: bool, report: &mut Report) {
    let leaves_tls = current.secure && !next.secure;
    if leaves_tls {
        report.notes.push(format!(
            "the redirect to {} leaves TLS: the rest is not encrypted",
            next.url
        ));
    }
    if elsewhere && leaves_tls {
        report.notes.push(format!(
            "credentials (user:pass in the URL, --auth, -H Authorization/Cookie) are not sent \
             to {}: the redirect leaves TLS, and they would travel in clear text",
            next.url
        ));
    } else if elsewhere {
        report.notes.push(format!(
            "credentials (--auth, -H Authorization/Cookie) are not sent to {}: it is not \
             the server in the URL",
            next.url
        ));
    }
}

/// Same scheme, host and port (and socket): where the user's credentials may go.
fn same_origin(a: &Target, b: &Target) -> bool {
    a.secure == b.secure && a.host == b.host && a.port == b.port && a.unix_socket == b.unix_socket
}

/// Give up following redirects. The report's 3xx check says "follow it with -L", which is wrong
/// once -L is on: show the reason we stopped instead.
fn stop(mut report: Report, e: Error) -> (Report, Result<Upgraded>) {
    if let Some(v) = report.verdict.as_mut() {
        v.hint = e.hint();
    }
    (report, Err(e))
}

/// The redirects -L follows, as curl: 300 (choices), 304 (not modified) and 305 (use proxy) are not
/// redirects to a new location.
fn is_followed(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// One dial + upgrade. `Ok(None)` means "follow the redirect in report.response".
async fn attempt(
    target: &Target,
    args: &Options,
    tls_config: &mut Option<TlsConfig>,
    report: &mut Report,
    deadline: tokio::time::Instant,
) -> Result<Option<Upgraded>> {
    let start = Instant::now();
    report.timings = Timings::default();
    report.response = None;
    report.verdict = None;
    let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
    let req = request::build(target, args, key);
    // A shared HTTP/2 connection: wait while another WebSocket dials it, then open a stream on it.
    let slot = args.h2_slot.as_deref().filter(|_| args.http2 != Http2::Off);
    let _dialing = match slot {
        Some(s) => Some(
            tokio::time::timeout_at(deadline, s.dialing.lock())
                .await
                .map_err(|_| Error::Timeout {
                    what: "waiting for the shared HTTP/2 connection",
                    after: args.connect_timeout,
                })?,
        ),
        None => None,
    };
    if let Some((s, (send, said))) = slot.and_then(|s| Some((s, s.live()?))) {
        drop(_dialing);
        let mut view = h2::H2View::default();
        let why: crate::dial::h2stream::Why = Box::new(move || said());
        let timeout = args.connect_timeout;
        let opened = h2::open_stream(send, target, &req, &mut view, deadline, timeout, why).await;
        report.http2 = Some(view);
        return match opened {
            Ok((up, headers)) => {
                s.opened();
                finish_h2(up, headers, &req, args, report, start)
            }
            Err(h2::Refusal::Failed(e)) => {
                s.forget();
                Err(e)
            }
            Err(h2::Refusal::Fallback(why)) => {
                s.forget();
                Err(Error::Handshake {
                    message: why,
                    hint: None,
                })
            }
        };
    }
    let mut stream = Some(reach(target, args, tls_config, report, deadline).await?);
    if args.http2 != Http2::Off && report.http2.is_none() {
        let opened = try_http2(
            &mut stream,
            target,
            args,
            &req,
            tls_config,
            report,
            deadline,
        );
        if let Some((up, headers)) = opened.await? {
            if let Some(s) = slot {
                s.opened();
            }
            return finish_h2(up, headers, &req, args, report, start);
        }
        // The HTTP/2 attempt used the connection up, unless ALPN already chose HTTP/1.1 on it.
        if stream.is_none() {
            stream = Some(reach(target, args, tls_config, report, deadline).await?);
        }
    }
    let Some(stream) = stream else {
        return Err(Error::Runtime("internal: no stream after dialing".into()));
    };
    upgrade_http1(stream, &req, target, args, report, deadline, start).await
}

/// The RFC 8441 attempt on the dialed `stream`: the opened stream, or `None` to fall back to
/// HTTP/1.1 Upgrade (noted in the report, h2 left out of the next ALPN offer; `stream` is taken
/// when the attempt used the connection up). An error when --http2-only forbids the fallback.
async fn try_http2(
    stream: &mut Option<BoxStream>,
    target: &Target,
    args: &Options,
    req: &request::Request,
    tls_config: &mut Option<TlsConfig>,
    report: &mut Report,
    deadline: tokio::time::Instant,
) -> Result<Option<(Upgraded, crate::http::Headers)>> {
    let alpn = report.tls.as_ref().and_then(|t| t.alpn.clone());
    let why = match (target.secure, alpn.as_deref()) {
        (true, Some("h2")) | (false, _) if stream.is_some() => {
            let Some(dialed) = stream.take() else {
                return Err(Error::Runtime("internal: no stream for HTTP/2".into()));
            };
            let mut view = h2::H2View::default();
            let opened = h2::open(dialed, target, req, &mut view, deadline, args);
            let opened = opened.await;
            report.http2 = Some(view);
            match opened {
                Ok(up) => return Ok(Some(up)),
                Err(h2::Refusal::Failed(e)) => return Err(e),
                Err(h2::Refusal::Fallback(why)) => why,
            }
        }
        (_, other) => format!(
            "ALPN selected {} instead of h2",
            other.unwrap_or("nothing (the server ignored ALPN)")
        ),
    };
    if args.http2 == Http2::Only {
        return Err(Error::Handshake {
            message: format!("HTTP/2 WebSocket (RFC 8441) not possible: {why}"),
            hint: Some("leave out --http2-only to fall back to HTTP/1.1 Upgrade".into()),
        });
    }
    report
        .notes
        .push(format!("HTTP/2: {why}: falling back to HTTP/1.1 Upgrade"));
    if let Some(cfg) = tls_config.as_mut() {
        cfg.without_h2();
    }
    report.http2 = None;
    Ok(None)
}

/// The HTTP/1.1 Upgrade on the dialed `stream`: send the request, read the response (and a
/// refusal's body), run the checks. `Ok(None)` means "follow the redirect in report.response".
async fn upgrade_http1(
    mut stream: BoxStream,
    req: &request::Request,
    target: &Target,
    args: &Options,
    report: &mut Report,
    deadline: tokio::time::Instant,
    start: Instant,
) -> Result<Option<Upgraded>> {
    report.request = Some(req.text.clone());
    report.request_headers = req.headers.clone();
    let upgrade_start = Instant::now();
    let (mut resp, leftover) = exchange(&mut stream, req, target, args, deadline).await?;
    report.timings.upgrade = Some(upgrade_start.elapsed());
    if resp.status != 101 {
        let idle = Duration::from_millis(500).min(args.connect_timeout);
        response::read_body(&mut stream, &mut resp, leftover.clone(), idle, deadline).await;
    }
    report.timings.total = Some(start.elapsed());
    let verdict = checks::evaluate(req, &resp, args.require_subprotocol);
    report.response = Some(ResponseView {
        status: resp.status,
        reason: resp.reason.clone(),
        headers: resp.headers.clone(),
        head: resp.text.clone(),
        head_raw: resp.raw.clone(),
        body: (resp.status != 101).then(|| String::from_utf8_lossy(&resp.body).into_owned()),
        body_truncated: resp.body_truncated,
    });
    let passed = verdict.passed();
    let failure = verdict.first_failure().map(|c| (c.name, c.detail.clone()));
    let hint = verdict.hint.clone();
    report.verdict = Some(verdict);
    if passed {
        return Ok(Some(Upgraded {
            stream,
            leftover,
            h2_dump: None,
        }));
    }
    if args.follow_redirects && is_followed(resp.status) && resp.header("Location").is_some() {
        return Ok(None);
    }
    let message = match failure {
        Some((checks::CheckName::Status, detail)) => {
            format!("the server refused the upgrade: {detail}")
        }
        Some((name, detail)) => format!("handshake check '{name}' failed: {detail}"),
        None => "the handshake failed".into(),
    };
    Err(Error::Handshake { message, hint })
}

/// The RFC 8441 stream is open: record the response and the checks that apply (a 2xx status
/// accepts; there is no key/accept exchange), and hand the stream on or say why not.
fn finish_h2(
    up: Upgraded,
    headers: crate::http::Headers,
    req: &request::Request,
    args: &Options,
    report: &mut Report,
    start: Instant,
) -> Result<Option<Upgraded>> {
    let view = report.http2.clone().unwrap_or_default();
    let status = view.status.unwrap_or(0);
    report.timings.h2_preface = view.preface;
    report.timings.upgrade = view.exchange;
    report.timings.total = Some(start.elapsed());
    report.request = Some(
        view.request
            .iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect(),
    );
    report.request_headers = req.headers.clone();
    let head: String = std::iter::once(format!(":status: {status}\r\n"))
        .chain(view.response.iter().map(|(n, v)| format!("{n}: {v}\r\n")))
        .collect();
    report.response = Some(ResponseView {
        status,
        reason: String::new(),
        headers: headers.clone(),
        head,
        head_raw: Vec::new(),
        body: view.body.as_ref().map(|(b, _)| b.clone()),
        body_truncated: view.body.as_ref().is_some_and(|(_, cut)| *cut),
    });
    let verdict = h2::evaluate(req, status, &headers, args.require_subprotocol);
    let passed = verdict.passed();
    let failure = verdict.first_failure().map(|c| c.detail.clone());
    let hint = verdict.hint.clone();
    report.verdict = Some(verdict);
    if passed {
        return Ok(Some(up));
    }
    Err(Error::Handshake {
        message: format!(
            "the server refused the HTTP/2 WebSocket: {}",
            failure.unwrap_or_default()
        ),
        hint,
    })
}

/// Dial the target (TCP or a Unix socket, the proxy, TLS for wss), noting in the report how far
/// it got even when a later step fails. The TLS context is built once, on the first wss hop,
/// which is the one that pays for it.
async fn reach(
    target: &Target,
    args: &Options,
    tls_config: &mut Option<TlsConfig>,
    report: &mut Report,
    deadline: tokio::time::Instant,
) -> Result<BoxStream> {
    let mut tls_setup = None;
    if target.secure && tls_config.is_none() {
        let setup = Instant::now();
        *tls_config = Some(TlsConfig::new(&args.tls, args.http2 != Http2::Off)?);
        tls_setup = Some(setup.elapsed());
    }
    let tls = tls_config.as_ref().filter(|_| target.secure);
    let proxy = dial::choose_proxy(target, &args.proxy)?;
    let mut reached = dial::Reached::default();
    let dialed = dial::dial(
        target,
        proxy.as_ref(),
        tls,
        deadline,
        args.connect_timeout,
        &mut reached,
    )
    .await;
    // What was reached is shown even when TLS (say) failed after it.
    report.timings.dial = reached.timings;
    report.timings.tls_setup = tls_setup;
    report.proxy = reached.proxy;
    let socket = target.unix_socket.as_ref();
    report.peer = match reached.peer {
        Some(p) => Some(p.to_string()),
        None => socket.map(|p| format!("Unix socket {}", p.display())),
    };
    let dialed = dialed?;
    report.tls = dialed.tls;
    Ok(dialed.stream)
}

/// A connection to `target` made as the upgrade makes it (proxy, TLS over HTTP/1.1), with nothing
/// sent yet: for `probe`'s hand-written requests.
pub async fn connect(
    target: &Target,
    args: &Options,
    deadline: tokio::time::Instant,
) -> Result<BoxStream> {
    let mut args = args.clone();
    args.http2 = Http2::Off;
    reach(target, &args, &mut None, &mut Report::default(), deadline).await
}

/// Write the upgrade request and read the response head, by the upgrade's deadline.
async fn exchange(
    stream: &mut BoxStream,
    req: &request::Request,
    target: &Target,
    args: &Options,
    deadline: tokio::time::Instant,
) -> Result<(response::Response, Vec<u8>)> {
    let talk = async {
        let sending = |e| Error::io("sending the upgrade request", e);
        stream
            .write_all(req.text.as_bytes())
            .await
            .map_err(sending)?;
        stream.flush().await.map_err(sending)?;
        response::read_head(stream).await
    };
    timeout_at(deadline, talk)
        .await
        .map_err(|_| Error::Timeout {
            what: "waiting for the upgrade response",
            after: args.connect_timeout,
        })?
        // A TLS alert that comes after the handshake (a client certificate refused) reads as
        // an I/O error here: say what it was.
        .map_err(|e| match &e {
            Error::Io { source, .. } => {
                crate::dial::alert_after_handshake(source, &target.host).unwrap_or(e)
            }
            _ => e,
        })
}
