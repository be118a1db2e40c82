//! `--wait` as a value: what clap parses (`units::parse_wait`) and the session obeys.

use std::time::Duration;

/// `--wait`: a time after the input ended, or forever.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wait {
    Secs(Duration),
    Forever,
}
