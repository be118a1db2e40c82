//! Numbers with units as the user writes them: seconds, sizes (K/M/G), speeds, and the floors some
//! flags need. clap's value parsers in `cli`, the script's `/sleep` and `--timeout` and the config
//! all read them here, so every place takes `1.5`, `64M` or `inf` the same way.

use std::time::Duration;

use crate::session::Wait;

pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=1e9).contains(&v) {
        return Err(format!(
            "'{s}' is not a number of seconds between 0 and 1e9"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// The shortest `--ping-interval`, `--ping-timeout` and `--connect-timeout`: 0 meant a ping storm
/// (~900/s) or a timeout before anything could happen.
const MIN_INTERVAL: f64 = 0.1;

pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_secs(s)?;
    if d.as_secs_f64() < MIN_INTERVAL {
        return Err(format!(
            "'{s}' is too short: use {MIN_INTERVAL} to 1e9 seconds"
        ));
    }
    Ok(d)
}

/// Control frames (a close, a ping) carry up to 125 bytes and must always get through: a smaller
/// limit would refuse the server's close.
pub const MIN_MESSAGE_SIZE: usize = 125;

pub fn parse_max_message(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    if n < MIN_MESSAGE_SIZE {
        return Err(format!(
            "'{s}' is below {MIN_MESSAGE_SIZE} bytes: control frames (close, ping, pong) carry up \
             to {MIN_MESSAGE_SIZE} bytes and must always be accepted; use at least {MIN_MESSAGE_SIZE}"
        ));
    }
    Ok(n)
}

/// `--wait`: seconds, or `inf`/`-1` for ever.
pub fn parse_wait(s: &str) -> Result<Wait, String> {
    match s.trim() {
        "-1" | "inf" | "infinite" | "forever" => Ok(Wait::Forever),
        other => parse_secs(other).map(Wait::Secs),
    }
}

/// Bytes with an optional K/M/G suffix (powers of 1024), e.g. `64M`, `256`, `1.5K`.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        None => (t, 1u64),
        Some((i, _)) => {
            let unit = t[i..].to_ascii_lowercase();
            let mult = match unit.trim_end_matches("ib").trim_end_matches('b') {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                _ => return Err(format!("'{s}': unknown size unit (use K, M or G)")),
            };
            (&t[..i], mult)
        }
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size in bytes"))?;
    let bytes = v * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > usize::MAX as f64 {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bytes as usize)
}

/// `--probe-max`: at least one byte, at most 1 GiB (the message is built in memory).
pub fn parse_probe_max(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    if n == 0 || n > 1 << 30 {
        return Err(format!("'{s}' is not between 1 byte and 1G"));
    }
    Ok(n)
}

/// `--speed X`: a positive factor.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e6 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a speed: use a number above 0, e.g. 2 (twice as fast) or 0.5"
        )),
    }
}

/// `--rate`, `--ramp`: a positive number per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e9 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a rate: use a number per second above 0, e.g. 100 or 0.5"
        )),
    }
}
