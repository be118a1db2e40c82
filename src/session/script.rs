//! The session's side of expect scripting: a line goes through the script first, its deadline
//! wakes the loop, a failure ends the connection (exit 7) or, in the REPL, is shown. The script
//! itself lives in `crate::script`.

use super::*;
use crate::script::Run;

impl Loop<'_> {
    /// A line of -x, --script or the REPL; `typed` when it was typed at the REPL prompt.
    pub(super) async fn on_line(&mut self, line: String, typed: bool, sink: &mut dyn EventSink) {
        let cmd = match self.script.line(&line, sink) {
            Run::Command(cmd) => cmd,
            Run::Lens { name, arg } => return self.lens_command(&name, &arg, sink).await,
            Run::Done => return,
            Run::Refused { message, hint } => {
                sink.event(Event::Refused {
                    message: &message,
                    hint: hint.as_deref(),
                });
                return;
            }
            Run::Failed(e) => return self.script_failed(e, sink).await,
        };
        // A plain line sent as it was typed is on the screen already; `/text MSG`, `//text` or a
        // line with values in shows something else than what is sent.
        let as_typed = typed && matches!(&cmd, Command::Text(t) if *t == line);
        let origin = if as_typed {
            Origin::Typed
        } else {
            Origin::User
        };
        match cmd {
            Command::Nothing => {}
            cmd => self.on_command(cmd, origin, sink).await,
        }
    }

    pub(super) async fn on_script_wake(&mut self, sink: &mut dyn EventSink) {
        if let Some(e) = self.script.on_wake(sink) {
            self.script_failed(e, sink).await;
        }
    }

    /// A script that cannot go on: the end of the connection (exit 7), unless in the REPL.
    pub(super) async fn script_failed(&mut self, e: Error, sink: &mut dyn EventSink) {
        if !self.script.fatal() {
            let hint = e.hint();
            sink.event(Event::Refused {
                message: &e.to_string(),
                hint: hint.as_deref(),
            });
            return;
        }
        self.failure.get_or_insert(e);
        self.local_failure = true;
        self.input_open = false;
        self.begin_close(None, sink).await;
    }

    /// The connection is over. Script lines still queued behind the last one that ran (the peer
    /// closed in the same read as the reply an /expect waited for) are judged on what came: an
    /// /expect on the messages kept, an /expect-close on the close. Then an expectation still
    /// waiting has failed.
    pub(super) async fn finish_script(&mut self, input: &mut Feed, sink: &mut dyn EventSink) {
        if self.failure.is_some() {
            return;
        }
        loop {
            // A jq filter still running is awaited (briefly): nothing else can happen now.
            let mut stop = self.opts.shutdown.clone();
            if let Some(e) = self.script.settle(sink, &mut stop).await {
                self.failure = Some(e);
                return;
            }
            if !self.script.ready() {
                break;
            }
            // What is not judged here stays in the input (a next connection may send it).
            let Some(item) = input.try_recv() else {
                break;
            };
            let (Input::Line(line) | Input::Typed(line)) = &item else {
                input.unread(item);
                break;
            };
            // Nothing can be sent any more: stop at the first line that would send.
            if matches!(
                crate::script::parse::parse(line),
                Ok(crate::script::parse::Step::Line(_)) | Err(_)
            ) {
                input.unread(item);
                break;
            }
            match self.script.line(line, sink) {
                Run::Failed(e) => {
                    self.failure = Some(e);
                    return;
                }
                Run::Refused { .. } | Run::Command(_) | Run::Lens { .. } => break,
                Run::Done => {}
            }
        }
        if let Some(e) = self.script.at_end(sink) {
            if self.script.fatal() {
                self.failure = Some(e);
            }
        }
    }
}
