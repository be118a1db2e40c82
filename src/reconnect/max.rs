//! The MAX of `--reconnect[=MAX]` as a value: what clap parses and `config` turns into a plan.

/// The MAX of `--reconnect[=MAX]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Max {
    /// No number: no limit in the REPL, [`PIPE_DEFAULT`] otherwise.
    Default,
    Limit(u32),
    /// `inf` (or `-1`, as `-w` takes it): no limit.
    Unlimited,
}

/// clap's parser for MAX.
pub fn parse_max(s: &str) -> std::result::Result<Max, String> {
    match s {
        "default" => Ok(Max::Default),
        "inf" | "-1" => Ok(Max::Unlimited),
        _ => match s.parse::<u32>() {
            Ok(0) => Err("0 attempts would never reconnect: leave --reconnect out".into()),
            Ok(n) => Ok(Max::Limit(n)),
            Err(_) => Err(format!(
                "'{s}' is not a number of attempts (a number from 1, or 'inf' for no limit)"
            )),
        },
    }
}
