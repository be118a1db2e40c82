//! Fuzz target for the slash-command parser and Tab completion: any line of
//! user input is either a command or a refusal with a message and a hint,
//! and completion at any cursor position stays inside the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wscope::slash::{complete, parse, Command};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the cursor for completion; the rest is the line.
    let [cursor, line @ ..] = data else {
        return;
    };
    let line = String::from_utf8_lossy(line);

    match parse(&line) {
        Ok(Command::Nothing) => assert!(line.is_empty()),
        Ok(command) => {
            let _ = command.listen_only();
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty message for {line:?}");
            assert!(
                e.hint().is_some_and(|h| !h.is_empty()),
                "no hint for {line:?}"
            );
        }
    }
    // `//rest` always sends `/rest` verbatim (for a single line).
    if let Some(rest) = line.strip_prefix("//") {
        assert_eq!(parse(&line), Ok(Command::Text(format!("/{rest}"))));
    }

    // The cursor may be past the end or inside a character: complete clamps.
    let pos = usize::from(*cursor) % (line.len() + 2);
    let (start, candidates) = complete(&line, pos);
    assert!(start <= line.len(), "start {start} past the line {line:?}");
    // The completed word starts at or before the (clamped) cursor.
    let mut cursor = pos.min(line.len());
    while !line.is_char_boundary(cursor) {
        cursor -= 1;
    }
    assert!(
        start <= cursor,
        "start {start} after the cursor {cursor} in {line:?}"
    );
    assert!(line.is_char_boundary(start));
    assert!(candidates.iter().all(|c| !c.is_empty()));
});
