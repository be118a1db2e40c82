//! What `wscope bench` was asked to do, checked (`crate::config::bench` builds it from the
//! command line): the target and its handshake options, the load, the payload, the pairing rule
//! and where the report goes.

use std::path::PathBuf;
use std::time::Duration;

use super::pairing::Pairing;
use super::payload::Payload;
use crate::handshake;
use crate::target::Target;

/// A run, or a merge of earlier runs' logs.
#[derive(Debug)]
pub enum Mode {
    Run(Box<Bench>),
    /// `--merge FILE...`: print the combined report of these interval logs.
    Merge {
        files: Vec<PathBuf>,
        json: bool,
    },
}

#[derive(Debug)]
pub struct Bench {
    pub target: Target,
    pub handshake: handshake::Options,
    /// The session engine's options for a load connection (see `config::bench`).
    pub session: crate::session::Options,
    /// `--lens` and its options; each connection chooses from its handshake.
    pub lens: crate::lens::Config,
    pub max_message_size: usize,
    pub connections: u32,
    /// `--ramp`: connections opened per second; None opens them all at once.
    pub ramp: Option<f64>,
    /// `-n`: messages per connection; None sends for `duration`.
    pub messages: Option<u64>,
    pub duration: Duration,
    /// `--rate`: messages per second per connection (open loop); None is closed loop.
    pub rate: Option<f64>,
    pub payload: Payload,
    pub pairing: Pairing,
    pub reply_timeout: Duration,
    pub threads: usize,
    /// `--h2-connections K`: the WebSockets share K HTTP/2 connections.
    pub h2_connections: Option<u32>,
    pub json: bool,
    /// `--hist FILE`: the round-trip interval log.
    pub hist: Option<PathBuf>,
}

impl Bench {
    /// The mode as the report names it.
    pub fn mode(&self) -> String {
        match self.rate {
            Some(r) => format!(
                "open loop, {r} msg/s per connection (round trips count from when each message was due)"
            ),
            None => "closed loop (the next message leaves when the last one was answered)".into(),
        }
    }
}
