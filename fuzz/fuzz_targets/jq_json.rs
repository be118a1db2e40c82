//! Fuzz target for jq filters on hostile JSON: any message (nested at any depth, malformed,
//! huge numbers, bad escapes) under filters that walk, print and rebuild it answers or is refused
//! as not JSON, off the calling thread, within its memory budget: never a panic or an abort.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wscope::script::matcher::{json_depth, Jq, JqOutcome, MAX_JSON_DEPTH};
use wscope::script::worker::{Ended, Job};

/// Filters that recurse over the whole value in different ways.
const FILTERS: &[&str] = &[
    ".",
    "..",
    "tojson",
    "tostring | length",
    "[paths] | length",
    ".[]? // empty",
    ".a.b.c",
    "[.. | numbers] | add",
    "walk(if type == \"array\" then reverse else . end)",
    "(. | tojson | fromjson) == .",
    "to_entries? | from_entries",
    "select(.type == \"ack\") | .id",
];

fuzz_target!(|data: &[u8]| {
    let [pick, message @ ..] = data else {
        return;
    };
    let filter = FILTERS[usize::from(*pick) % FILTERS.len()];
    let jq = Arc::new(Jq::compile(filter).expect("the fixed filters compile"));
    let text: Arc<str> = Arc::from(String::from_utf8_lossy(message).as_ref());
    let job = Job::start(jq, text.clone());
    // A small message answers in far less than this; a runaway one is given up on (dropped).
    let Some(ended) = job.wait(Duration::from_secs(5)) else {
        return;
    };
    assert_ne!(ended, Ended::Lost, "jaq failed on {text:?} with {filter}");
    if json_depth(text.as_bytes()) > MAX_JSON_DEPTH {
        assert_eq!(ended, Ended::Answer(JqOutcome::NotJson));
    }
});
