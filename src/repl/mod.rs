//! The interactive REPL, used when stdin and stdout are terminals. rustyline edits lines on a std
//! thread and each finished line goes to the session as [`Input::Typed`], on the channel `-x` feeds;
//! the printer's lines come back through [`screen`] and appear above the prompt. A blocked
//! `readline` cannot be cancelled, so when the session ends on its own (the server closed, the
//! connection dropped) [`Repl::finish`] takes the terminal back: it restores the termios saved at
//! start, turns bracketed paste off and prints what is left, after which the process may exit.

mod helper;
mod screen;

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use colored::Colorize;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor, EventHandler, KeyEvent};
use tokio::sync::mpsc::Sender;

use crate::error::{Error, Result};
use crate::session::Input;
use crate::slash::{self, Command};
use helper::{CtrlC, ReplHelper};
use screen::{Screen, Shared};

const PROMPT: &str = "> ";
const HISTORY_SIZE: usize = 1000;
/// How long `finish` lets rustyline draw the last line it was handed before taking the terminal.
const DRAW_GRACE: Duration = Duration::from_millis(50);
/// At most this long `finish` waits for a readline that has not switched to raw mode yet.
const RAW_MODE_WAIT: Duration = Duration::from_millis(500);

/// What the REPL thread and `finish` agree on, under one lock.
#[derive(Default)]
struct Gate {
    /// `finish` has begun: do not enter readline again.
    finishing: bool,
    /// readline is running (the terminal is in raw mode).
    reading: bool,
}

pub struct Repl {
    editor: Option<Editor<ReplHelper, FileHistory>>,
    history: Option<PathBuf>,
    screen: Screen,
    shared: Shared,
    gate: Arc<Mutex<Gate>>,
    saved: Option<libc::termios>,
    /// A second handle on the printer's channel, used once to send the barrier (see `start`).
    barrier: Option<std::sync::mpsc::Sender<String>>,
    /// In `listen`, /close ends the clients, not the REPL: only /quit is the last line.
    listen: bool,
    /// Ctrl-C on an empty line cancels a waiting /expect (or /sleep) instead of quitting.
    cancel: Option<crate::script::Cancel>,
}

/// The printer for a command, and the REPL when `interactive`: the printer then writes above the
/// prompt. A REPL that cannot start is the error.
pub fn printer_and_repl(
    output: &crate::config::Output,
    interactive: bool,
    history: bool,
    listen: bool,
) -> Result<(crate::printer::Printer, Option<Repl>)> {
    use crate::printer::Screen as Out;
    if !interactive {
        return Ok((output.printer(Out::Stderr), None));
    }
    let (repl, tx) = Repl::new(history, listen)?;
    Ok((output.printer(Out::Prompt(tx)), Some(repl)))
}

/// End a command run by [`printer_and_repl`]: flush, and let the REPL print what the printer left
/// once it has the terminal back from readline. The error, if any, is reported by the caller's
/// caller, at the edge (`lib.rs`), once the terminal is the shell's again.
pub fn end(
    mut printer: crate::printer::Printer,
    repl: Option<Repl>,
    result: Result<()>,
) -> Result<()> {
    crate::event::EventSink::flush(&mut printer);
    drop(printer);
    if let Some(repl) = repl {
        repl.finish();
    }
    result
}

impl Repl {
    /// Set up the editor and the screen threads. The returned sender is the printer's
    /// `Screen::Prompt`; once the printer is dropped, [`Repl::finish`] can drain it.
    /// `history` false is `--no-history`; `listen` shows the listen-only commands.
    pub fn new(history: bool, listen: bool) -> Result<(Repl, std::sync::mpsc::Sender<String>)> {
        let saved = save_terminal();
        let config = Config::builder()
            .auto_add_history(false)
            .completion_type(CompletionType::List)
            .history_ignore_dups(true)
            .map_err(editor_error)?
            .max_history_size(HISTORY_SIZE)
            .map_err(editor_error)?
            .build();
        let mut editor: Editor<ReplHelper, FileHistory> =
            Editor::with_config(config).map_err(editor_error)?;
        editor.set_helper(Some(ReplHelper { listen, lens: &[] }));
        editor.bind_sequence(
            KeyEvent::ctrl('C'),
            EventHandler::Conditional(Box::new(CtrlC)),
        );
        let printer = editor.create_external_printer().map_err(editor_error)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let screen = Screen::start(rx, printer);
        let shared = screen.shared();

        let history = if history {
            match history_file() {
                Ok(path) => match editor.load_history(&path) {
                    Ok(()) => Some(path),
                    Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                        Some(path)
                    }
                    Err(e) => {
                        shared.push(history_warning(&path, &e.to_string()));
                        None
                    }
                },
                Err((path, e)) => {
                    shared.push(history_warning(&path, &e.to_string()));
                    None
                }
            }
        } else {
            None
        };
        let repl = Repl {
            editor: Some(editor),
            history,
            screen,
            shared,
            gate: Arc::default(),
            saved,
            barrier: Some(tx.clone()),
            listen,
            cancel: None,
        };
        Ok((repl, tx))
    }

    /// Let Ctrl-C cancel what a script waits for.
    pub fn cancel_with(&mut self, cancel: crate::script::Cancel) {
        self.cancel = Some(cancel);
    }

    /// Tab completes the commands of the lens in use too (before [`Repl::start`]).
    pub fn set_lens(&mut self, commands: &'static [crate::slash::CommandHelp]) {
        if let Some(helper) = self.editor.as_mut().and_then(|e| e.helper_mut()) {
            helper.lens = commands;
        }
    }

    /// Start reading lines into `input`, which already holds any `-x` lines.
    pub fn start(&mut self, input: Sender<Input>) {
        let Some(editor) = self.editor.take() else {
            return;
        };
        // Let the handshake summary reach the screen before the prompt is drawn under it.
        if let Some(barrier) = self.barrier.take() {
            let _ = barrier.send(String::new());
        }
        self.screen.settle(Duration::from_millis(500));
        let history = self.history.clone();
        let gate = self.gate.clone();
        let shared = self.shared.clone();
        let listen = self.listen;
        let cancel = self.cancel.take();
        let _ = std::thread::Builder::new()
            .name("repl".into())
            .spawn(move || read_lines(editor, history, gate, shared, input, listen, cancel));
    }

    /// Call once the session is over and the printer dropped: take the terminal back from a
    /// readline that may still be blocked, and print what the screen had not shown yet.
    pub fn finish(mut self) {
        // Our handle on the printer's channel would keep the collector waiting for ever.
        self.barrier = None;
        let reading = {
            let mut g = self.gate.lock().unwrap_or_else(|p| p.into_inner());
            g.finishing = true;
            g.reading
        };
        let rest = self.screen.stop();
        let mut out = std::io::stdout().lock();
        if reading {
            // The painter's last batch may still be on its way through rustyline's own channel.
            std::thread::sleep(DRAW_GRACE);
            // readline may be running without having switched to raw mode yet (its thread was
            // descheduled): wait for that, bounded, so that our restore is the last word.
            if let Some(saved) = &self.saved {
                let deadline = std::time::Instant::now() + RAW_MODE_WAIT;
                while save_terminal().is_some_and(|now| now.c_lflag == saved.c_lflag)
                    && std::time::Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            restore_terminal(self.saved.as_ref());
            // Bracketed paste off; erase the prompt and whatever was half typed on it.
            let _ = out.write_all(b"\x1b[?2004l\r\x1b[J");
        }
        if let Some(rest) = rest {
            let _ = out.write_all(rest.as_bytes());
        }
        let _ = out.flush();
    }
}

fn read_lines(
    mut editor: Editor<ReplHelper, FileHistory>,
    history: Option<PathBuf>,
    gate: Arc<Mutex<Gate>>,
    shared: Shared,
    input: Sender<Input>,
    listen: bool,
    cancel: Option<crate::script::Cancel>,
) {
    let styled = PROMPT.blue().bold().to_string();
    let prompt = (PROMPT, styled.as_str());
    loop {
        {
            let mut g = gate.lock().unwrap_or_else(|p| p.into_inner());
            if g.finishing {
                return;
            }
            g.reading = true;
        }
        let read = editor.readline(&prompt);
        gate.lock().unwrap_or_else(|p| p.into_inner()).reading = false;
        let (line, typed) = match read {
            Ok(line) => (line, true),
            // Ctrl-C while a script waits: stop waiting; the lines typed meanwhile run next.
            Err(ReadlineError::Interrupted) if cancel.as_ref().is_some_and(|c| c.waiting()) => {
                if let Some(c) = &cancel {
                    c.fire();
                }
                continue;
            }
            // Ctrl-D, or Ctrl-C on an empty line (on a half-typed one it only clears the line).
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => ("/quit".to_string(), false),
            Err(e) => {
                shared.push(format!(
                    "{} reading the terminal failed: {e}; closing",
                    "error:".red().bold()
                ));
                ("/quit".to_string(), false)
            }
        };
        if line.is_empty() {
            continue;
        }
        if let (Some(path), true) = (&history, typed) {
            if editor.add_history_entry(line.as_str()).unwrap_or(false) {
                // Saved line by line: the process may exit while readline is blocked.
                if let Err(e) = editor.append_history(path) {
                    shared.push(history_warning(path, &e.to_string()));
                }
            }
        }
        // After /quit or /close the session is closing: stop prompting, so the terminal is ours
        // again and the close shows up as plain lines.
        let last = match slash::parse(&line) {
            Ok(Command::Quit) => true,
            Ok(Command::Close { .. }) => !listen,
            _ => false,
        };
        if input.blocking_send(Input::Typed(line)).is_err() || last {
            return;
        }
    }
}

/// The history file in the user's data directory, created private (0600) before rustyline
/// touches it; on failure, the path and why.
fn history_file() -> std::result::Result<PathBuf, (PathBuf, std::io::Error)> {
    let Some(data) = dirs::data_dir() else {
        let e = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no data directory (set HOME or XDG_DATA_HOME)",
        );
        return Err((PathBuf::from("wscope/history"), e));
    };
    let dir = data.join("wscope");
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| (dir.clone(), e))?;
    let path = dir.join("history");
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| (path.clone(), e))?;
    Ok(path)
}

fn history_warning(path: &Path, why: &str) -> String {
    format!(
        "{} history not saved: {}: {why} (--no-history turns history off)",
        "warning:".yellow().bold(),
        path.display()
    )
}

fn editor_error(e: ReadlineError) -> Error {
    Error::Runtime(format!(
        "cannot start the line editor: {e}; pipe stdin or use --no-repl with -x instead"
    ))
}

fn save_terminal() -> Option<libc::termios> {
    // SAFETY: tcgetattr only writes into the termios we hand it, and fd 0 is open.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(libc::STDIN_FILENO, &mut t) == 0).then_some(t)
    }
}

fn restore_terminal(saved: Option<&libc::termios>) {
    if let Some(t) = saved {
        // SAFETY: `t` came from tcgetattr on the same fd.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, t);
        }
    }
}
