//! What a probe check is called and what it found (the vocabulary `cli`, `config` and
//! `commands::probe` share, kept below all three): the ids of SPEC "probe" (also the values of
//! `--only` and `--skip`), the verdicts, and one check's result.

use serde::Serialize;

/// Every check, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum CheckId {
    OriginForeign,
    OriginNull,
    OriginMissing,
    Version,
    Subprotocol,
    Deflate,
    Ping,
    Close,
    Utf8,
    Unmasked,
    Rsv,
    Opcode,
    ControlFragmented,
    ControlOversized,
    MaxMessage,
    Tls,
    /// Only with `--fingerprint` (or `--only fingerprint`).
    Fingerprint,
}

impl CheckId {
    pub const ALL: [CheckId; 17] = [
        CheckId::OriginForeign,
        CheckId::OriginNull,
        CheckId::OriginMissing,
        CheckId::Version,
        CheckId::Subprotocol,
        CheckId::Deflate,
        CheckId::Ping,
        CheckId::Close,
        CheckId::Utf8,
        CheckId::Unmasked,
        CheckId::Rsv,
        CheckId::Opcode,
        CheckId::ControlFragmented,
        CheckId::ControlOversized,
        CheckId::MaxMessage,
        CheckId::Tls,
        CheckId::Fingerprint,
    ];

    /// The id as the user types it.
    pub fn id(self) -> &'static str {
        match self {
            CheckId::OriginForeign => "origin-foreign",
            CheckId::OriginNull => "origin-null",
            CheckId::OriginMissing => "origin-missing",
            CheckId::Version => "version",
            CheckId::Subprotocol => "subprotocol",
            CheckId::Deflate => "deflate",
            CheckId::Ping => "ping",
            CheckId::Close => "close",
            CheckId::Utf8 => "utf8",
            CheckId::Unmasked => "unmasked",
            CheckId::Rsv => "rsv",
            CheckId::Opcode => "opcode",
            CheckId::ControlFragmented => "control-fragmented",
            CheckId::ControlOversized => "control-oversized",
            CheckId::MaxMessage => "max-message",
            CheckId::Tls => "tls",
            CheckId::Fingerprint => "fingerprint",
        }
    }

    /// What a conforming server does, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::OriginForeign => "refuses an Origin none of its pages would send",
            CheckId::OriginNull => "refuses Origin: null",
            CheckId::OriginMissing => "a request without Origin (non-browser clients)",
            CheckId::Version => "answers version 8 with 426 + Sec-WebSocket-Version: 13",
            CheckId::Subprotocol => "selects no subprotocol when none is offered",
            CheckId::Deflate => "negotiates permessage-deflate by RFC 7692",
            CheckId::Ping => "answers a ping with a pong echoing its payload",
            CheckId::Close => "answers a close within 2 s",
            CheckId::Utf8 => "closes with 1007 on invalid UTF-8 text",
            CheckId::Unmasked => "closes with 1002 on an unmasked client frame",
            CheckId::Rsv => "closes with 1002 on RSV2 without an extension",
            CheckId::Opcode => "closes with 1002 on a reserved opcode",
            CheckId::ControlFragmented => "closes with 1002 on a fragmented ping",
            CheckId::ControlOversized => "closes with 1002 on a 126-byte ping",
            CheckId::MaxMessage => "the largest message it accepts",
            CheckId::Tls => "TLS version, certificate validity and names",
            CheckId::Fingerprint => "the server's library or product, from how it answers",
        }
    }
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
