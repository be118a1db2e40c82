//! The life of an open connection: one loop that reads frames, takes commands from the input side
//! (pipe, -x or REPL) through a bounded channel, runs the timers (--wait, pings, the close deadline)
//! and the close handshake, and emits events. It never formats text. Writes go through a separate
//! writer task so a slow server can never stop us from reading what it sends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::dial::BoxStream;
use crate::error::{Error, Result};
use crate::event::{Closer, DataKind, Ending, Event, EventSink, Origin, State, Stats};
use crate::shutdown::{self, Shutdown};
use crate::slash::Command;
use crate::wire::tap::{TapEvent, Tapped};

/// What the input side sends us.
#[derive(Debug)]
pub enum Input {
    /// A line in the command language (-x, REPL): parsed here, so refusals are events like any other.
    Line(String),
    /// A line typed at the REPL prompt: a [`Input::Line`] that the screen already shows as typed.
    Typed(String),
    /// Data from a pipe: sent as-is. The charge holds its bytes' share of the queue's byte budget
    /// until the message leaves the queue.
    Text(String, Charge),
    Binary(Vec<u8>, Charge),
    /// A command already parsed (listen's hub sends these to its clients), with its charge.
    Command(Command, Charge),
    /// The input side failed (stdin unreadable, a line over the limit): no more input, and the
    /// session ends with this error once the connection is closed.
    Failed(Error),
    /// Something about the input the user should know.
    Notice(String),
    /// A data message an earlier connection took but never wrote (`--reconnect`): sent as it
    /// is, without a second `sent` event.
    Resend(Message),
    /// A message already built (bench's load): sent and announced like data from a pipe, without
    /// a charge (its producer bounds what it queues).
    Data(Message),
    /// No more input.
    End,
}

/// A queued input's share of its queue's byte budget, given back when it is dropped.
pub use crate::bounded::Charge;

/// Capacity of the input channel, in messages. Bounded so that a fast producer waits for the
/// server (backpressure); large, so that the stdin thread is woken once per batch of lines and not
/// per line (the pipe's bytes are bounded separately, see `input`).
pub const INPUT_QUEUE: usize = 4096;
/// Inputs handled per pass of the loop when they are already queued.
const INPUT_BURST: usize = 64;
const WRITE_QUEUE: usize = 64;
/// How long we wait for the server's close frame after sending ours.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages handled per pass of the loop when they are already readable; bounded so input,
/// timers and signals still get their turn under a flood.
const READ_BURST: usize = 64;
/// Pings awaiting their pong that we remember (older ones are forgotten, not leaked).
const MAX_PENDING_PINGS: usize = 64;
/// Control frames held back while the write queue is full; beyond this, pings are not queued.
const MAX_BACKLOG: usize = 16;
/// How often a session whose output is backed up tries to hand it on.
const BACKLOG_RETRY: Duration = Duration::from_millis(10);
/// How long counting the input that was never sent may read on (a pipe that does not end).
const UNSENT_COUNT_GRACE: Duration = Duration::from_millis(500);
/// How long the writer may take to finish once the session is over.
const WRITER_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Options {
    pub role: Role,
    /// Ctrl-C and SIGTERM close this connection. [`Shutdown::none`] for `listen`'s clients: the
    /// server closes them all with 1001 itself.
    pub shutdown: Shutdown,
    /// Pipe mode: when the peer ends the connection while input still waits, count what was
    /// never sent (SPEC "Pipe mode"). Off in the REPL and for listen's clients.
    pub count_unsent: bool,
    pub wait: Wait,
    /// `--idle`: close after this long without a message once the input ended.
    pub idle: Option<Duration>,
    /// The expect scripting of -x, --script and the REPL.
    pub script: crate::script::Options,
    pub once: bool,
    pub count: Option<u64>,
    pub close_code: u16,
    pub close_reason: String,
    pub echo: bool,
    pub ping_interval: Option<Duration>,
    pub ping_timeout: Option<Duration>,
    pub max_message_size: usize,
    /// What the inbound watch saw: the server's close code as it was on the wire (tungstenite
    /// rewrites some to 1002), and which text was not UTF-8.
    pub wire: Option<crate::wire::guard::WireFacts>,
    /// Toggled by /dump; None when there is no tap to toggle.
    pub dump: Option<Arc<AtomicBool>>,
    /// permessage-deflate, when negotiated: compresses what we send, knows what came compressed.
    pub deflate: Option<crate::deflate::Link>,
    /// The layer that carries `/raw` and `/frame` bytes; None where the stack has none.
    pub raw: Option<raw::Injector>,
    /// The lens of this connection (`crate::lens`), if any.
    pub lens: Option<crate::lens::Chosen>,
}

type Ws = WebSocketStream<BoxStream>;

/// tungstenite's configuration for our limits. Frames are bounded like messages: a 2^63 length
/// must close with 1009, never allocate.
pub fn ws_config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
        // tungstenite zero-fills its whole read buffer before every read: at the default 128 KiB
        // that was most of our CPU in a stream of small messages (docs/BENCHMARKS.md).
        .read_buffer_size(READ_BUFFER)
}

const READ_BUFFER: usize = 16 * 1024;

/// The library's read buffer for `role` ([`ws_config`] has a client's). A server (`wscope
/// listen`) may hold thousands of mostly idle connections, and tungstenite allocates its read
/// buffer whole when the connection opens and zero-fills it at the first read: a smaller one makes
/// each cost 12 KiB less, while a stream of small messages is still read a few dozen at a time
/// (docs/BENCHMARKS.md, LS).
pub fn read_buffer_for(role: Role) -> usize {
    match role {
        Role::Server => SERVER_READ_BUFFER,
        Role::Client => READ_BUFFER,
    }
}

const SERVER_READ_BUFFER: usize = 4 * 1024;

/// Run the session to its end. Ok is a clean end (exit 0); Err carries the exit code.
pub async fn run(
    ws: Ws,
    input: mpsc::Receiver<Input>,
    frames: Option<crate::wire::tap::TapReceiver>,
    sink: &mut dyn EventSink,
    opts: Options,
    stats: Stats,
) -> Result<()> {
    let mut feed = Feed::new(input);
    run_connection(ws, &mut feed, frames, sink, opts, stats, Carry::default())
        .await
        .result
}

/// What a session takes over from the connections before it (`--reconnect`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Carry {
    /// Data messages received on earlier connections: `--once`/`--count` count them all.
    pub received: u64,
    /// Keep what is queued for the writer, to hand back what it never wrote.
    pub keep_unsent: bool,
}

/// How a session ended, for a caller that may open another connection.
#[derive(Debug)]
pub struct Ended {
    /// What the exit code would be if this were the last connection.
    pub result: Result<()>,
    /// None when the session left early because nobody reads our output any more.
    pub ending: Option<Ending>,
    /// Data messages received, this connection's and those of `Carry::received`.
    pub received: u64,
    /// We closed because the peer stopped answering pings: it looks dead, not done.
    pub dead_peer: bool,
    /// The session ended for a reason of ours (the input failed, a script failed, a signal):
    /// another connection would not change it.
    pub local: bool,
}

impl Ended {
    /// Nobody reads our output any more.
    fn unread(received: u64) -> Ended {
        Ended {
            result: Ok(()),
            ending: None,
            received,
            dead_peer: false,
            local: true,
        }
    }
}

/// [`run`] on an input that outlives the session: what the session took and did not send is
/// left in `input` (see [`Feed`]).
pub async fn run_connection(
    ws: Ws,
    input: &mut Feed,
    mut frames: Option<crate::wire::tap::TapReceiver>,
    sink: &mut dyn EventSink,
    opts: Options,
    mut stats: Stats,
    carry: Carry,
) -> Ended {
    let (sink_half, mut stream) = ws.split();
    let (wtx, mut werr_rx, handed, writer) = arms::spawn_writer(sink_half, opts.raw.clone());
    let mut s = Loop::new(opts, wtx, &mut stats);
    s.handed = handed;
    s.received_data = carry.received;
    s.keep_unsent = carry.keep_unsent;
    let mut t = timers::Timers::new(s.opts.ping_interval.or(s.opts.ping_timeout));
    // Made once, outside the loop: a signal that arrives between two passes must not be lost.
    let mut stop = s.opts.shutdown.clone();
    s.lens_start(sink).await;
    // When the lens's timer last fired: it waits at least `lens::LENS_GAP` after, so a deadline
    // a lens does not move (a peer's interval of 0) cannot keep its arm ready.
    let mut lens_fired = None;

    let ending = loop {
        if sink.broken() {
            // Nobody is reading our output any more: leave quietly.
            return Ended::unread(s.received_data);
        }
        t.rearm(s.wait_deadline(), s.close_begun_at(), s.close_wait);
        let lens_at = s.lens_deadline(lens_fired);
        tokio::select! {
            biased;
            // First: the user's stop and the close deadline are never starved by a busy arm.
            () = stop.recv() => s.on_stop(&mut t, sink).await,
            _ = &mut t.close, if t.close_armed => break s.on_close_deadline(sink.backlogged()),
            // With --echo each message read is written back: read only once there is room to
            // echo it, so a server that pushes but never reads stalls us here, where signals and
            // timers still run, and not inside the echo's send.
            msg = async {
                s.echo_room().await;
                stream.next().await
            }, if !t.reads_held && !sink.backlogged() => {
                if let Some(ending) = s.on_read_arm(msg, &mut stream, &mut frames, &mut t, sink).await {
                    break ending;
                }
            }
            _ = &mut t.read_hold, if t.reads_held => t.reads_held = false,
            t = too_big(&s.opts.wire) => s.on_too_big(t, sink).await,
            Some(tapped) = next_frame(&mut frames), if !sink.backlogged() => show_tapped(tapped, sink),
            Some(e) = werr_rx.recv() => break s.on_write_error(e),
            item = s.next_input(input), if s.input_open && !s.close.we_sent() && s.script.ready() && s.lens_ready() => {
                if let Some(ending) = s.on_input_burst(item, input, sink).await {
                    break ending;
                }
            }
            // Off once the close began, by either side: after the peer's close there is nothing
            // left to wait for but the close deadline.
            _ = &mut t.wait, if t.wait_armed.is_some() && !s.close_begun() => {
                s.on_wait_timer(&mut t, sink).await;
            }
            () = s.script.wake(), if !s.close.we_sent() => s.on_script_wake(sink).await,
            _ = &mut t.ping, if t.ping_every.is_some() && !s.close_begun() => {
                s.on_ping_arm(&mut t, sink).await;
            }
            () = lens::lens_timer(lens_at), if lens_at.is_some() && !s.close_begun() => {
                s.on_lens_arm(&mut lens_fired, sink).await;
            }
            // Owned, so the permit does not borrow the loop state the other arms need.
            permit = async { s.wtx.clone().reserve_owned().await }, if !s.backlog.is_empty() => {
                s.on_writer_room(permit);
            }
            _ = std::future::ready(()), if sink.dirty() => sink.flush(),
            // The output is backed up: try again shortly (past its bound, reads wait meanwhile).
            _ = tokio::time::sleep(BACKLOG_RETRY), if sink.stalled() || sink.backlogged() => sink.flush(),
        }
    };
    wind_up(s, ending, writer, stream, &mut frames, input, sink).await
}

/// After the loop: run what the script has left, let the writer finish, show the last frames,
/// report the ending and judge it.
async fn wind_up(
    mut s: Loop<'_>,
    ending: Ending,
    writer: tokio::task::JoinHandle<Vec<Message>>,
    stream: futures_util::stream::SplitStream<Ws>,
    frames: &mut Option<crate::wire::tap::TapReceiver>,
    input: &mut Feed,
    sink: &mut dyn EventSink,
) -> Ended {
    s.finish_script(input, sink).await;
    let counted = s.count_reached();
    let unsent = stop_writer(s.wtx, writer).await;
    input.hand_back(unsent);
    // The peer cut the input short: say what never went (pipe mode; with --reconnect the next
    // connection sends it).
    let cut = s.input_cut || (s.input_open && ending.closer == Closer::Nobody);
    let never = if cut && s.opts.count_unsent && !s.keep_unsent {
        let (n, complete) = input
            .count_unsent(shutdown::until(UNSENT_COUNT_GRACE))
            .await;
        let in_flight = s
            .stats
            .messages_sent
            .saturating_sub(s.stats.messages_received);
        (n > 0).then_some(crate::event::Unsent {
            never_sent: n,
            in_flight,
            complete,
        })
    } else {
        None
    };
    // With the writer gone this drops the stream and its tap, which reports any frame cut off
    // mid-way (one tungstenite refused to read, say) before we drain the queue.
    drop(stream);
    // The last frames (the close handshake) may still be in the tap's queue.
    show_queued_frames(frames, sink);
    s.stats.state = State::Closed;
    arms::report_ending(s.opts.role, s.failure.as_ref(), &ending, sink);
    if let Some(u) = never {
        sink.event(Event::Unsent(u));
        sink.flush();
    }
    let result = match s.failure.take() {
        Some(e) => Err(e),
        None => s.script.judged(judge(&ending, s.opts.role)).and(counted),
    };
    // Exit 1 unless a more specific code applies.
    let result = match (result, never) {
        (Ok(()), Some(u)) => Err(Error::Runtime(format!(
            "{}{} input{} never sent (see above)",
            if u.complete { "" } else { "at least " },
            u.never_sent,
            if u.never_sent == 1 { " was" } else { "s were" }
        ))),
        (r, _) => r,
    };
    Ended {
        result: match s.stopped {
            Some(stop) => stop.judge(result),
            None => result,
        },
        received: s.received_data,
        dead_peer: s.dead_peer,
        local: s.local_failure || s.stopped.is_some() || shutdown::signalled().is_some(),
        ending: Some(ending),
    }
}

/// Close the write queue and let the writer write the last frames. A writer stuck on a server
/// that stopped reading would never finish: it gets a moment, then is given up on. Returns the
/// data messages it never wrote.
async fn stop_writer(
    wtx: mpsc::Sender<Outgoing>,
    mut writer: tokio::task::JoinHandle<Vec<Message>>,
) -> Vec<Message> {
    drop(wtx);
    let until = TokioInstant::from_std(shutdown::until(WRITER_GRACE));
    match tokio::time::timeout_at(until, &mut writer).await {
        Ok(unsent) => unsent.unwrap_or_default(),
        Err(_) => {
            writer.abort();
            let _ = writer.await;
            Vec::new()
        }
    }
}

/// Print the frames the tap has queued so far.
fn show_queued_frames(
    frames: &mut Option<crate::wire::tap::TapReceiver>,
    sink: &mut dyn EventSink,
) {
    if let Some(rx) = frames {
        while let Ok(tapped) = rx.try_recv() {
            show_tapped(tapped, sink);
        }
    }
}

fn show_tapped((dir, at, tapped): TapEvent, sink: &mut dyn EventSink) {
    match tapped {
        Tapped::Ws(frame) => sink.event(Event::Frame {
            dir,
            at,
            frame: &frame,
        }),
        Tapped::H2(header) => sink.event(Event::H2Frame { dir, at, header }),
    }
}

async fn next_frame(frames: &mut Option<crate::wire::tap::TapReceiver>) -> Option<TapEvent> {
    match frames {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A message over the limit that the guard dropped; pending for ever without a guard.
async fn too_big(wire: &Option<crate::wire::guard::WireFacts>) -> crate::wire::guard::TooBig {
    match wire {
        Some(w) => w.too_big().await,
        None => std::future::pending().await,
    }
}

fn far_future() -> TokioInstant {
    TokioInstant::now() + Duration::from_secs(86400 * 365)
}

mod arms;
mod close;
mod ending;
mod feed;
mod lens;
pub mod raw;
mod script;
mod stack;
mod state;
mod timers;
mod wait;
mod writer;

pub use crate::wire::role::Role;
pub use stack::{stack, stack_sized, Stacked, Tapping};
pub use wait::Wait;

use ending::judge;
pub use feed::{script_input, Feed};
use writer::{write_loop, Out, Outgoing};

/// One session's state. Its handlers live in `state.rs` (input, commands, messages) and
/// `ending.rs` (how it ended).
struct Loop<'a> {
    opts: Options,
    wtx: mpsc::Sender<Outgoing>,
    /// Whether the writer has handed all it was given to the library (for --echo's last echoes).
    handed: Arc<writer::Handed>,
    stats: &'a mut Stats,
    input_open: bool,
    input_ended_at: Option<Instant>,
    /// The flag whose wait ended the session (`-w`, `--idle`), to name it when --count falls short.
    ended_by_wait: Option<&'static str>,
    last_data: Instant,
    received_data: u64,
    /// The close handshake: our close frame and the peer's.
    close: close::CloseState,
    pings: VecDeque<(Vec<u8>, Instant)>,
    ping_seq: u64,
    /// A local reason to exit non-zero, decided before the close finished.
    failure: Option<Error>,
    /// Control frames (ping, pong, close) that found the write queue full. They wait here, not
    /// in an await, so a server that stops reading cannot stop the loop: timers, signals and the
    /// close deadline keep working.
    backlog: VecDeque<Out>,
    /// How long the close handshake may take once begun.
    close_wait: Duration,
    /// When we last sent an automatic ping.
    last_ping: Option<Instant>,
    /// Expectations, variables and /sleep (see `script.rs`).
    script: crate::script::Script,
    /// We said once that crafted bytes bypass the library.
    raw_noted: bool,
    /// Data messages go to the writer with their uncompressed form, to be handed back unsent.
    keep_unsent: bool,
    /// The ping timeout fired: the peer looks dead.
    dead_peer: bool,
    /// A failure of ours (the input, a fatal script): another connection would not help.
    local_failure: bool,
    /// The peer's close came while input was still open: what is left was cut off.
    input_cut: bool,
    /// A signal began the close (see `state.rs`, `on_signal`).
    stopped: Option<state::Stop>,
    /// The protocol inside, decoded and spoken (`--lens`).
    lens: Option<Box<dyn crate::lens::Lens>>,
}
