//! Fuzz target for the upgrade-response parser and the 101 checks: any bytes
//! a server sends are a head (whose length lies inside the input), "more
//! bytes needed", or an error with a message; a parsed head then goes
//! through the RFC 6455 checks without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wscope::handshake::checks::evaluate;
use wscope::handshake::request::Request;
use wscope::handshake::response::parse_head;

fuzz_target!(|data: &[u8]| {
    match parse_head(data) {
        Ok(Some((resp, len))) => {
            assert!(
                len <= data.len(),
                "head length {len} > input {}",
                data.len()
            );
            assert_eq!(resp.text, String::from_utf8_lossy(&data[..len]));
            // A prefix that ends before the head is "more bytes needed" or
            // an error, never a different head.
            if len > 0 {
                if let Ok(Some((_, shorter))) = parse_head(&data[..len - 1]) {
                    panic!(
                        "a prefix of {} bytes parsed as a head of {shorter}",
                        len - 1
                    );
                }
            }
            // The same request every time (the RFC 6455 sample key), offering
            // a subprotocol and an extension so every negotiation branch runs.
            let req = Request {
                text: String::new(),
                key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
                offered_protocols: vec!["chat".into(), "superchat".into()],
                offered_extensions: vec!["x-test; a=1".into()],
            };
            for require_subprotocol in [false, true] {
                let verdict = evaluate(&req, &resp, require_subprotocol);
                assert!(!verdict.checks.is_empty());
                assert_eq!(verdict.checks[0].name.as_str(), "status");
                if resp.status != 101 {
                    assert!(!verdict.passed());
                }
                if !verdict.passed() {
                    assert!(verdict.first_failure().is_some());
                }
                let _ = verdict.hint;
            }
        }
        Ok(None) => {}
        Err(e) => {
            assert!(!e.to_string().is_empty());
            let _ = e.hint();
            let _ = e.exit_code();
        }
    }
});
