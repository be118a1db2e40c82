//! The script state machine without a network: lines, messages and closes fed by hand.

use super::*;
use crate::event::Event;

#[derive(Default)]
struct Sink(Vec<(String, Outcome)>);

impl EventSink for Sink {
    fn event(&mut self, ev: Event<'_>) {
        if let Event::Expect(r) = ev {
            self.0.push((r.pattern.clone(), r.result));
        }
    }
    fn flush(&mut self) {}
    fn dirty(&self) -> bool {
        false
    }
    fn broken(&self) -> bool {
        false
    }
}

fn script(keep: bool) -> Script {
    Script::new(&Options {
        keep,
        ..Options::default()
    })
}

fn command(run: Run) -> String {
    match run {
        Run::Command(crate::slash::Command::Text(l)) => l,
        other => panic!("expected a command line, got {other:?}"),
    }
}

#[test]
fn kept_messages_meet_a_later_expectation_and_the_rest_stay() {
    let mut s = script(true);
    let mut sink = Sink::default();
    s.on_data(&Message::text("a=1"), None, &mut sink);
    s.on_data(&Message::text("b=2"), None, &mut sink);
    s.on_data(&Message::text("c=3"), None, &mut sink);
    assert!(matches!(
        s.line("/expect b=(?<b>\\d)", &mut sink),
        Run::Done
    ));
    assert!(s.ready(), "met at once by a kept message");
    // c=3 came after the match: it counts for the next one.
    assert!(matches!(
        s.line("/expect ^c=(?<c>\\d)$", &mut sink),
        Run::Done
    ));
    assert!(s.ready());
    assert_eq!(command(s.line("${b}${c}", &mut sink)), "23");
    assert_eq!(sink.0.len(), 2);
    assert!(sink.0.iter().all(|(_, o)| *o == Outcome::Matched));
}

#[test]
fn an_expectation_holds_until_a_match_skipping_others() {
    let mut s = script(false);
    let mut sink = Sink::default();
    s.line("/expect-json .id == 2", &mut sink);
    assert!(!s.ready());
    assert!(s.deadline().is_some());
    s.on_data(&Message::text("not json"), None, &mut sink);
    s.on_data(&Message::text(r#"{"id":1}"#), None, &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(!s.ready());
    s.on_data(&Message::text(r#"{"id":2,"v":"x y"}"#), None, &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(s.ready());
    assert!(matches!(s.line("/let v .v", &mut sink), Run::Done));
    assert!(settle(&mut s, &mut sink).is_none());
    assert_eq!(command(s.line("${v}", &mut sink)), "x y");
}

/// Issue 25 D3: a value in a filter is a jq string, never jq code.
#[test]
fn a_value_in_a_filter_is_a_string() {
    let mut s = script(true);
    let mut sink = Sink::default();
    s.on_data(&Message::text("id=0 or true"), None, &mut sink);
    s.line("/expect ^id=(?<id>.*)$", &mut sink);
    s.on_data(&Message::text(r#"{"n":5}"#), None, &mut sink);
    assert!(matches!(
        s.line("/expect-json .n == ${id}", &mut sink),
        Run::Done
    ));
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(!s.ready(), "0 or true was run as jq");
    s.on_data(&Message::text(r#"{"n":"0 or true"}"#), None, &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(s.ready());
}

/// Issue 25 D1: a message nested past the bound is not JSON, to an expectation and to /let.
#[test]
fn a_message_nested_too_deep_is_not_json() {
    let mut s = script(true);
    let mut sink = Sink::default();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    s.on_data(&Message::text(deep.clone()), None, &mut sink);
    s.line("/expect-json --timeout 5 true", &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(!s.ready(), "a deep message matched");
    let mut s = script(true);
    s.on_data(&Message::text(deep), None, &mut sink);
    s.line("/expect ^\\[", &mut sink);
    assert!(s.ready());
    assert!(matches!(s.line("/let v .", &mut sink), Run::Done));
    let e = settle(&mut s, &mut sink).unwrap();
    assert!(e.to_string().contains("not JSON"), "{e}");
}

/// Issue 25 D4: a filter that never ends gives way to its timeout and says so.
#[test]
fn a_runaway_filter_gives_way_to_the_timeout() {
    let mut s = script(true);
    let mut sink = Sink::default();
    s.on_data(&Message::text("{}"), None, &mut sink);
    s.line(
        "/expect-json --timeout 0.2 last(range(1e12)) > 0",
        &mut sink,
    );
    assert!(settle(&mut s, &mut sink).is_none());
    std::thread::sleep(Duration::from_millis(200));
    let e = s.on_wake(&mut sink).unwrap().to_string();
    assert!(e.contains("still running"), "{e}");
    assert!(s.ready());
}

#[test]
fn substituted_values_are_literal_in_a_regex() {
    let mut s = script(true);
    let mut sink = Sink::default();
    s.on_data(&Message::text("v=a.c"), None, &mut sink);
    s.line("/expect v=(?<v>.+)", &mut sink);
    s.on_data(&Message::text("got abc"), None, &mut sink);
    s.line("/expect got ${v}", &mut sink);
    assert!(!s.ready(), "'a.c' must not match 'abc'");
    s.on_data(&Message::text("got a.c"), None, &mut sink);
    assert!(s.ready());
}

#[test]
fn binary_is_matched_as_hex() {
    let mut s = script(true);
    let mut sink = Sink::default();
    s.on_data(&Message::binary(vec![0x01, 0xab]), None, &mut sink);
    s.line("/expect ^01ab$", &mut sink);
    assert!(s.ready());
}

#[test]
fn a_close_ends_a_waiting_expectation() {
    let mut s = script(false);
    let mut sink = Sink::default();
    s.line("/expect never", &mut sink);
    let e = s.on_close(Some(1000), &mut sink).unwrap();
    assert_eq!(e.exit_code(), 7);
    assert!(
        e.to_string().contains("closed the connection with 1000"),
        "{e}"
    );
    assert_eq!(sink.0.last().map(|(_, o)| *o), Some(Outcome::Closed));
}

#[test]
fn expect_close_judges_the_code() {
    let mut s = script(false);
    let mut sink = Sink::default();
    s.line("/expect-close 4000", &mut sink);
    assert!(s.on_close(Some(4000), &mut sink).is_none());
    assert!(s.judged(Err(Error::protocol("4000"))).is_ok());

    let mut s = script(false);
    s.line("/expect-close 4000", &mut sink);
    let e = s.on_close(Some(1000), &mut sink).unwrap();
    assert!(e.to_string().contains("closed with 1000"), "{e}");
    assert!(s.judged(Err(Error::protocol("x"))).is_err());

    // The close came before the line was reached.
    let mut s = script(false);
    assert!(s.on_close(Some(4001), &mut sink).is_none());
    assert!(matches!(s.line("/expect-close", &mut sink), Run::Done));
    assert!(s.ready());
    assert!(s.judged(Err(Error::protocol("x"))).is_ok());
}

#[test]
fn let_without_a_match_fails_and_the_end_fails_a_waiting_one() {
    let mut s = script(false);
    let mut sink = Sink::default();
    assert!(matches!(s.line("/let x .a", &mut sink), Run::Failed(_)));
    s.line("/expect x", &mut sink);
    let e = s.at_end(&mut sink).unwrap();
    assert!(e.to_string().contains("the connection ended first"), "{e}");
    assert!(e.to_string().contains("no message was received"), "{e}");
}

#[test]
fn timeouts_and_cancels_wake_the_script() {
    let mut s = script(false);
    let mut sink = Sink::default();
    s.line("/expect --timeout 0 x", &mut sink);
    let e = s.on_wake(&mut sink).unwrap();
    assert!(
        e.to_string()
            .starts_with("/expect x failed: no matching message within"),
        "{e}"
    );
    assert!(s.ready());

    let cancel = Cancel::default();
    let mut s = Script::new(&Options {
        cancel: cancel.clone(),
        ..Options::default()
    });
    s.line("/expect x", &mut sink);
    assert!(cancel.waiting());
    cancel.fire();
    assert!(s.on_wake(&mut sink).is_none());
    assert!(s.ready());
    assert!(!cancel.waiting());
    assert_eq!(sink.0.last().map(|(_, o)| *o), Some(Outcome::Cancelled));

    s.line("/sleep 0", &mut sink);
    assert!(!s.ready());
    assert!(s.on_wake(&mut sink).is_none());
    assert!(s.ready());
}

#[test]
fn typed_mistakes_are_refused_not_fatal() {
    let mut s = script(true);
    let mut sink = Sink::default();
    assert!(matches!(s.line("${nope}", &mut sink), Run::Refused { .. }));
    assert!(matches!(
        s.line("/expect (", &mut sink),
        Run::Refused { .. }
    ));
    assert!(s.ready());
}

#[test]
fn the_kept_messages_are_bounded() {
    let mut s = script(true);
    let mut sink = Sink::default();
    for i in 0..(KEEP_MESSAGES + 10) {
        s.on_data(&Message::text(format!("m{i}")), None, &mut sink);
    }
    assert_eq!(s.kept.len(), KEEP_MESSAGES);
    s.on_data(&Message::binary(vec![0u8; KEEP_BYTES]), None, &mut sink);
    assert!(s.kept_bytes <= KEEP_BYTES);
}

/// A message that nothing waits for is not held: it shares the library's read buffer, and holding
/// each one pinned that buffer so the socket was read a message at a time (B1 in
/// docs/BENCHMARKS.md went from 0.3 s to 3.3 s). A failure still reports the last ones, cut.
#[test]
fn messages_nothing_waits_for_are_not_held_and_a_failure_still_shows_the_last() {
    let mut s = script(false);
    let mut sink = Sink::default();
    let payload = tokio_tungstenite::tungstenite::Bytes::from(vec![0xab; 4096]);
    s.on_data(&Message::Binary(payload.clone()), None, &mut sink);
    let text = "é".repeat(300);
    s.on_data(&Message::text(text.clone()), None, &mut sink);
    assert!(
        payload.try_into_mut().is_ok(),
        "the script still holds the received buffer"
    );
    s.line("/expect never", &mut sink);
    let e = s.at_end(&mut sink).unwrap().to_string();
    assert!(e.contains("last 2 of 2 received"), "{e}");
    assert!(
        e.contains("binary abab") && e.contains("... (4096 bytes)"),
        "{e}"
    );
    assert!(
        e.contains(&format!("{}... (600 bytes)", "é".repeat(100))),
        "{e}"
    );
}

#[test]
fn a_lens_command_is_read_as_written_and_its_values_are_data() {
    let mut s = script(true);
    let mut sink = Sink::default();
    s.on_data(&Message::text("ev=chat x /emit"), None, &mut sink);
    s.line("/expect ev=(?<ev>\\S+ \\S+) (?<cmd>.+)", &mut sink);
    match s.line("/emit ${ev}", &mut sink) {
        Run::Lens { name, arg } => assert_eq!((name.as_str(), arg.as_str()), ("emit", "chat x")),
        other => panic!("expected a lens command, got {other:?}"),
    }
    // A value never makes a line a lens command, nor names one.
    assert_eq!(command(s.line("${cmd} hi", &mut sink)), "/emit hi");
    assert!(matches!(s.line("/em${ev}", &mut sink), Run::Refused { .. }));
    // Not a lens command: the command language, as before.
    assert_eq!(command(s.line("/text ${ev}", &mut sink)), "chat x");
}

#[test]
fn with_a_lens_on_expect_json_and_let_see_its_view() {
    let mut s = script(true);
    let mut sink = Sink::default();
    let view: Seen = Some(Arc::from(r#"{"type":"event","name":"chat","args":["hi"]}"#));
    // Kept before the expectation, judged off the runtime thread on the lens's view.
    s.on_data(
        &Message::text(r#"42["chat","hi"]"#),
        view.clone(),
        &mut sink,
    );
    s.line("/expect-json .name == \"chat\"", &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(s.ready(), "the view met the filter");
    assert!(matches!(s.line("/let a .args[0]", &mut sink), Run::Done));
    assert!(settle(&mut s, &mut sink).is_none());
    assert_eq!(command(s.line("${a}", &mut sink)), "hi");
    // Arriving while it waits, too.
    s.line("/expect-json .name == \"chat\"", &mut sink);
    s.on_data(&Message::text(r#"42["chat","yo"]"#), None, &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(
        !s.ready(),
        "the raw text is not what the filter sees with a lens"
    );
    s.on_data(&Message::text(r#"42["chat","yo"]"#), view, &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert!(s.ready());
    // `/expect` still matches the raw text, and `/let` then reads the view.
    let view: Seen = Some(Arc::from(r#"{"name":"n","args":[7]}"#));
    s.on_data(&Message::text(r#"42["n",7]"#), view, &mut sink);
    s.line("/expect ^42", &mut sink);
    assert!(s.ready());
    s.line("/let n .args[0]", &mut sink);
    assert!(settle(&mut s, &mut sink).is_none());
    assert_eq!(command(s.line("${n}", &mut sink)), "7");
}

/// [`Script::settle`] from a test: on a runtime of its own, with no signal handle.
fn settle(s: &mut Script, sink: &mut dyn EventSink) -> Option<Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(s.settle(sink, &mut crate::shutdown::Shutdown::none()))
}
