//! The lens options, checked (SPEC.md "Lenses"): `--lens`, `--lens-passive`, `--lens-auth` and
//! `--lens-host` for connect; `listen --lens` (decoding only, no duties).

use crate::cli::{ConnectArgs, ListenArgs, LiveArgs};
use crate::error::{Error, Result};

/// The lens options of `wscope URL`: a known lens name or `none`, and auth that is JSON.
pub fn lens(live: &LiveArgs, conn: &ConnectArgs) -> Result<crate::lens::Config> {
    use crate::lens::{by_name, names, Choice};
    let choice = match live.lens.as_deref() {
        None => Choice::Auto,
        Some("none") => Choice::Off,
        Some(name) => Choice::Named(by_name(name).ok_or_else(|| {
            Error::usage_hint(
                format!(
                    "--lens '{}' is not a lens wscope knows",
                    name.escape_debug()
                ),
                format!("use one of: {}", names()),
            )
        })?),
    };
    let auth = match live.lens_auth.as_deref() {
        None => None,
        Some(text) => Some(crate::lens::parse_json(text).map_err(|e| {
            Error::usage_hint(
                format!("--lens-auth is not JSON: {e}"),
                "e.g. --lens-auth '{\"token\":\"abc\"}'",
            )
        })?),
    };
    Ok(crate::lens::Config {
        choice,
        passive: live.lens_passive,
        auth,
        timeout: conn.connect_timeout,
        host: live.lens_host.clone().unwrap_or_default(),
        login: conn.auth.as_ref().map(|a| match a.split_once(':') {
            Some((u, p)) => (u.to_string(), p.to_string()),
            None => (a.clone(), String::new()),
        }),
        ..crate::lens::Config::default()
    })
}

/// `listen --lens NAME`: a lens that decodes what clients send and keeps no duties.
pub fn listen_lens(args: &ListenArgs) -> Result<Option<crate::lens::Chosen>> {
    passive_lens(args.lens.as_deref())
}

/// `listen --lens NAME` and `proxy --lens NAME`: decoding only.
pub fn passive_lens(name: Option<&str>) -> Result<Option<crate::lens::Chosen>> {
    let Some(name) = name else {
        return Ok(None);
    };
    let entry = crate::lens::by_name(name).ok_or_else(|| {
        Error::usage_hint(
            format!(
                "--lens '{}' is not a lens wscope knows",
                name.escape_debug()
            ),
            format!("use one of: {}", crate::lens::names()),
        )
    })?;
    Ok(Some(crate::lens::Chosen {
        entry,
        config: crate::lens::Config {
            passive: true,
            ..crate::lens::Config::default()
        },
    }))
}
