//! What a probe check is called and what it found (the vocabulary `cli`, `config` and
//! `commands::probe` share, kept below all three): the ids of SPEC "probe" (also the values of
//! `--only` and `--skip`), the verdicts, and one check's result.
//!
//! The checks are one table ([`checks!`] below): a new check is one line there (its variant,
//! id, what a conforming server does, whether it runs by default, its time budget) plus the arm
//! in `commands::probe` that runs it.

use std::time::Duration;

use serde::Serialize;

/// Whether a check runs in a plain `wscope probe URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Cheap: part of every probe.
    Default,
    /// Expensive (many bytes, many connections or a long wait): only when named in `--only`, or
    /// turned on by its own flag (`--probe-idle`, `--probe-conns`).
    Asked,
}

macro_rules! checks {
    ($($variant:ident $id:literal $cost:ident $secs:literal $title:literal;)*) => {
        /// Every check, in the order the report lists them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
        pub enum CheckId {
            $(#[value(name = $id)] $variant,)*
        }

        impl CheckId {
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant,)*];

            /// The id as the user types it.
            pub fn id(self) -> &'static str {
                match self { $(CheckId::$variant => $id,)* }
            }

            /// What a conforming server does, in a few words.
            pub fn title(self) -> &'static str {
                match self { $(CheckId::$variant => $title,)* }
            }

            pub fn cost(self) -> Cost {
                match self { $(CheckId::$variant => Cost::$cost,)* }
            }

            /// How long the check may take beyond `--connect-timeout` (some add their own flag's
            /// time: `--probe-idle`, the connections of `--probe-conns`).
            pub fn budget(self) -> Duration {
                match self { $(CheckId::$variant => Duration::from_secs($secs),)* }
            }
        }
    };
}

checks! {
    OriginForeign "origin-foreign" Default 3 "refuses an Origin none of its pages would send";
    OriginNull "origin-null" Default 3 "refuses Origin: null";
    OriginMissing "origin-missing" Default 3 "a request without Origin (non-browser clients)";
    OriginVariants "origin-variants" Default 3 "refuses look-alikes of its own origin (scheme, port, case, dot, punycode, file://, two Origins)";
    CookieOnly "cookie-only" Default 3 "refuses a foreign Origin that carries only the cookie (-H 'Cookie: ...' or --cookie)";
    HostMissing "host-missing" Default 3 "answers a request without Host with 400";
    Http10 "http10" Default 3 "refuses an HTTP/1.0 upgrade";
    KeyMissing "key-missing" Default 3 "answers a request without Sec-WebSocket-Key with 400";
    KeyMalformed "key-malformed" Default 3 "answers a key that is not 16 bytes of base64 with 400";
    KeyDuplicate "key-duplicate" Default 3 "answers two Sec-WebSocket-Key headers with 400";
    HeadersLarge "headers-large" Default 3 "refuses an oversized request head (256 KiB)";
    HeadersMany "headers-many" Default 3 "refuses a request with 10 000 header fields";
    Version "version" Default 3 "answers version 8 with 426 + Sec-WebSocket-Version: 13";
    Subprotocol "subprotocol" Default 3 "selects no subprotocol when none is offered";
    SubprotocolChoice "subprotocol-choice" Default 3 "selects one of the subprotocols offered, or none";
    Deflate "deflate" Default 3 "negotiates permessage-deflate by RFC 7692";
    Extensions "extensions" Default 3 "accepts only the extensions it implements, each offered alone";
    DeflateParams "deflate-params" Default 3 "declines permessage-deflate offers with invalid parameters";
    DeflateBomb "deflate-bomb" Asked 60 "refuses a message that inflates to 1 GiB (sent as ~1 MiB)";
    Ping "ping" Default 3 "answers a ping with a pong echoing its payload";
    Close "close" Default 3 "answers a close within 2 s";
    Utf8 "utf8" Default 3 "closes with 1007 on invalid UTF-8 text";
    Utf8Fragmented "utf8-fragmented" Default 3 "closes with 1007 on invalid UTF-8 split across fragments";
    Unmasked "unmasked" Default 3 "closes with 1002 on an unmasked client frame";
    Rsv1 "rsv1" Default 3 "closes with 1002 on RSV1 without an extension";
    Rsv "rsv" Default 3 "closes with 1002 on RSV2 without an extension";
    Rsv3 "rsv3" Default 3 "closes with 1002 on RSV3 without an extension";
    Opcode "opcode" Default 3 "closes with 1002 on each reserved opcode (0x3-0x7, 0xB-0xF)";
    ContinuationStart "continuation-start" Default 3 "closes with 1002 on a continuation without a start";
    FragmentInterleaved "fragment-interleaved" Default 3 "closes with 1002 on a new message inside a fragmented one";
    ControlFragmented "control-fragmented" Default 3 "closes with 1002 on a fragmented ping";
    ControlOversized "control-oversized" Default 3 "closes with 1002 on a 126-byte ping";
    CloseCodes "close-codes" Default 3 "closes with 1002 on each invalid close code (0, 999, 1004, 1005, 1006, 1015, 5000)";
    CloseShort "close-short" Default 3 "closes with 1002 on a 1-byte close payload";
    LengthNonminimal "length-nonminimal" Default 3 "closes with 1002 on a length in a longer form than it needs";
    Length64bit "length-64bit" Default 3 "closes (1002) on a 64-bit length with the top bit set";
    MaxMessage "max-message" Default 60 "the largest message it accepts";
    MaxFrame "max-frame" Asked 120 "the largest frame it accepts, by binary search";
    Idle "idle" Asked 5 "closes an idle connection (waits up to --probe-idle)";
    ServerPing "server-ping" Asked 5 "pings an idle client, and how often (within --probe-idle)";
    Connections "connections" Asked 10 "limits the connections of one client (up to --probe-conns)";
    Tls "tls" Default 3 "TLS version, certificate validity and names";
    Fingerprint "fingerprint" Asked 3 "the server's library or product, from how it answers";
}

/// `--only`'s long help: what it does, the expensive checks, every id.
pub fn only_help() -> String {
    let ids = |cost| {
        CheckId::ALL
            .iter()
            .filter(|c| c.cost() == cost)
            .map(|c| c.id())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Run only these checks (comma-separated ids, repeatable). Every probe talks only to the \
         URL given.\n\nRun by default: {}.\n\nExpensive, run only when named here: {} (idle and \
         server-ping also with --probe-idle, connections also with --probe-conns).",
        ids(Cost::Default),
        ids(Cost::Asked)
    )
}

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "warn")]
    Warn,
    #[serde(rename = "fail")]
    Fail,
    /// The check does not apply (tls on ws://, deflate declined).
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::NotApplicable => "n/a",
        }
    }
}

/// What one check found. `detail` is the evidence (a close code, an RTT, a size) and, for a
/// warning or failure, what it means.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: CheckId,
    pub status: Status,
    pub detail: String,
    /// Structured evidence for `--json` (the fingerprint's signals and scores), under the id.
    pub data: Option<serde_json::Value>,
}

impl Outcome {
    pub fn new(id: CheckId, status: Status, detail: impl Into<String>) -> Outcome {
        Outcome {
            id,
            status,
            detail: detail.into(),
            data: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// The id the report prints is the one `--only` takes.
    #[test]
    fn every_id_is_its_only_value() {
        for &c in CheckId::ALL {
            let v = c.to_possible_value().expect("a value");
            assert_eq!(v.get_name(), c.id());
            assert!(!c.title().is_empty());
        }
    }
}
