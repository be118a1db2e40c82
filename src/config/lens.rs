//! The lens options, checked (SPEC.md "Lenses"): `--lens`, `--lens-passive`, `--lens-auth`,
//! `--lens-host`, `--proto`/`--message` (compiled here, at start-up) and `--mqtt-version` for
//! connect; `listen --lens` (decoding only, no duties).

use crate::cli::{ConnectArgs, ListenArgs, LiveArgs};
use crate::error::{Error, Result};
use crate::lens::{by_name, names, Choice, Entry};

/// The lens options of `wscope URL`. `login` is `--auth` as the handshake split it
/// (`handshake::Options::auth`): STOMP's login and passcode.
pub fn lens(
    live: &LiveArgs,
    conn: &ConnectArgs,
    login: Option<(String, String)>,
) -> Result<crate::lens::Config> {
    let proto = proto(live)?;
    let choice = match live.lens.as_deref() {
        None if proto.is_some() => Choice::Named(entry("protobuf")?),
        None => Choice::Auto,
        Some("none") => Choice::Off,
        Some(name) => Choice::Named(entry(name)?),
    };
    if proto.is_some() && !matches!(choice, Choice::Named(e) if e.name == "protobuf") {
        return Err(Error::usage_hint(
            "--proto is a schema for the protobuf lens, and --lens names another",
            "drop --lens, or use --lens protobuf",
        ));
    }
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
        login,
        proto,
        mqtt5: live.mqtt_version == "5",
        ..crate::lens::Config::default()
    })
}

/// `--proto FILE [--message NAME]`, compiled now: an error names the file and line (exit 2).
fn proto(live: &LiveArgs) -> Result<Option<prost_reflect::MessageDescriptor>> {
    let Some(path) = &live.proto else {
        return Ok(None);
    };
    let source = std::fs::read_to_string(path).map_err(|e| {
        Error::usage_hint(
            format!("--proto {}: {e}", path.display()),
            "--proto takes a readable .proto file",
        )
    })?;
    crate::lens::compile_proto(path, &source, live.message.as_deref())
        .map(Some)
        .map_err(|e| Error::usage_hint(format!("--proto {e}"), "--proto FILE --message pkg.Name"))
}

/// A lens by its `--lens` name, or the usage error listing the names.
fn entry(name: &str) -> Result<&'static Entry> {
    by_name(name).ok_or_else(|| {
        Error::usage_hint(
            format!(
                "--lens '{}' is not a lens wscope knows",
                name.escape_debug()
            ),
            format!("use one of: {}", names()),
        )
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
    Ok(Some(crate::lens::Chosen {
        entry: entry(name)?,
        config: crate::lens::Config {
            passive: true,
            ..crate::lens::Config::default()
        },
    }))
}
