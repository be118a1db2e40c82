//! Reading a recording: only a regular file, read before connecting; the format is sniffed from
//! its first line (a transcript's lines carry an `event`; anything else is taken as a HAR export),
//! and the parser of that format ([`transcript`], [`har`]) builds the [`Recording`].

use std::path::Path;

use super::recording::Recording;
use super::{har, transcript};
use crate::error::{Error, Result};

/// Read a transcript or a HAR file. A HAR with no WebSocket in it is an error here: there is
/// nothing anyone could replay.
pub fn load(path: &Path) -> Result<Recording> {
    let unreadable = |why: String| {
        Error::usage_hint(
            format!("cannot read the recording '{}': {why}", path.display()),
            "give the path of a transcript (--record FILE) or a HAR export: `wscope replay FILE`, `wscope listen PORT --replay FILE`",
        )
    };
    // Read before connecting, on the runtime thread: only a regular file, which cannot block
    // (a FIFO without a writer would wait for ever).
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(unreadable("it is not a regular file".into())),
        Err(e) => return Err(unreadable(e.to_string())),
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let first_value = serde_json::from_str::<serde_json::Value>(first).ok();
    let is_transcript = first_value
        .as_ref()
        .is_some_and(|v| v.get("event").is_some());
    let rec = if is_transcript {
        transcript::parse(path, &text)?
    } else {
        har::parse(path, &text)?
    };
    if rec.entries.is_empty() {
        return Err(Error::usage_hint(
            format!("{}: the recording holds no WebSocket", path.display()),
            "export the HAR with DevTools open while the page's WebSocket runs (Network tab, \
             'Save all as HAR'), or record one with `wscope URL --record FILE`",
        ));
    }
    Ok(rec)
}
