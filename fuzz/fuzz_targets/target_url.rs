//! Fuzz target for URL parsing (IDN hosts included) and redirect-Location resolution: any URL a
//! user types is a target or a usage error, any Location a server sends is a target or a
//! handshake failure, and what goes on the wire is ASCII (punycode hosts, percent-encoded paths).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line is the URL typed by the user; the rest is the server's Location header.
    let text = String::from_utf8_lossy(data);
    let (input, location) = text.split_once('\n').unwrap_or((&text, "/"));
    wscope::target::check_properties(input, location);
});
